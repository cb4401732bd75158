import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { exportedSeriesNames, metricNamesIn } from "../support/promql.js";
import { debianToolPath } from "../support/tools.js";

const run = promisify(execFile);

const ALERTS = new URL("../../infra/prometheus/gatehouse-alerts.yml", import.meta.url);
const DASHBOARD = new URL("../../infra/grafana/gatehouse-dashboard.json", import.meta.url);

/** The alert rules' expressions: one `expr:` line per rule (the file's own convention). */
async function alertExpressions(): Promise<string[]> {
  const text = await readFile(ALERTS, "utf8");
  const exprs = [...text.matchAll(/^\s+expr:\s*(.+)$/gm)].map(([, expr = ""]) => expr.trim());
  const rules = [...text.matchAll(/^\s+- alert:/gm)].length;
  expect(exprs).toHaveLength(rules);
  return exprs;
}

interface Dashboard {
  readonly panels: readonly { readonly targets: readonly { readonly expr: string }[] }[];
}

async function dashboardExpressions(): Promise<string[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as Dashboard;
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
}

describe("the alert rules, checked by Prometheus' own promtool", () => {
  it("promtool check rules accepts every rule", async () => {
    const { stdout } = await run(debianToolPath("promtool"), [
      "check",
      "rules",
      fileURLToPath(ALERTS),
    ]);
    const rules = [...(await readFile(ALERTS, "utf8")).matchAll(/^\s+- alert:/gm)].length;
    expect(stdout).toContain(`SUCCESS: ${rules} rules found`);
  });
});

describe("infra/ queries name only metrics the server exports (a real scrape)", () => {
  let gh: TestGatehouse;
  let exported: Set<string>;
  beforeAll(async () => {
    gh = await startTestGatehouse();
    exported = exportedSeriesNames(await (await fetch(`${gh.metricsUrl}/metrics`)).text());
  });
  afterAll(async () => {
    await gh.dispose();
  });

  it("reads metric names out of PromQL", () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, method) (rate(a_bucket{code=~"x|y"}[5m]))) / on(instance) b > 0.1',
      ),
    ).toEqual(["a_bucket", "b"]);
  });

  for (const [source, read] of [
    ["alert rules", alertExpressions],
    ["dashboard", dashboardExpressions],
  ] as const) {
    it(`every ${source} query`, async () => {
      const exprs = await read();
      expect(exprs.length).toBeGreaterThan(5);
      for (const expr of exprs) {
        const names = metricNamesIn(expr);
        expect(names.length, expr).toBeGreaterThan(0);
        for (const name of names) expect(exported.has(name), `${name} in ${expr}`).toBe(true);
      }
    });
  }
});
