import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { DEFAULTS, FIELDS } from "../../src/config/schema.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { debianToolPath, goToolPath, pythonToolPath } from "../support/tools.js";

const run = promisify(execFile);

const infra = (path: string): string =>
  fileURLToPath(new URL(`../../infra/${path}`, import.meta.url));
const DOCKERFILE = infra("docker/Dockerfile");
const COMPOSE = infra("compose/compose.yaml");
const COMPOSE_PROMETHEUS = infra("compose/prometheus.yml");
const K8S = infra("k8s");

/** The Kubernetes manifests (every YAML file but the Kustomize file, which is no API object). */
async function manifestFiles(): Promise<string[]> {
  const names = (await readdir(K8S)).filter((name) => name.endsWith(".yaml"));
  return names.filter((name) => name !== "kustomization.yaml").map((name) => `${K8S}/${name}`);
}

async function manifestsText(): Promise<string> {
  const texts = await Promise.all((await manifestFiles()).map((file) => readFile(file, "utf8")));
  return texts.join("\n---\n");
}

interface ComposeService {
  readonly environment?: Record<string, string>;
  readonly read_only?: boolean;
  readonly cap_drop?: string[];
}

/** The compose file as the Compose spec's loader resolves it (anchors and merges applied). */
async function composeModel(): Promise<{ services: Record<string, ComposeService> }> {
  const { stdout } = await run(goToolPath("cmd"), [
    "-no-interpolation",
    "-format",
    "json",
    COMPOSE,
  ]);
  return JSON.parse(stdout) as { services: Record<string, ComposeService> };
}

/** Every Gatehouse environment variable a deployment file names. */
function environmentNames(text: string): string[] {
  return [...new Set(text.match(/\b(?:GATEHOUSE_[A-Z0-9_]+|REDIS_URL)\b/g) ?? [])];
}

/** The variables the server reads: one per setting in the schema, plus the config file's. */
const KNOWN_VARIABLES = new Set<string>([
  ...Object.values(FIELDS).flatMap((rule) => ("env" in rule ? [rule.env] : [])),
  "GATEHOUSE_CONFIG",
]);

describe("infra/ checked by real linters and validators", () => {
  it("hadolint accepts the Dockerfile", async () => {
    const { stdout } = await run(pythonToolPath("hadolint"), [DOCKERFILE]);
    expect(stdout).toBe("");
  });

  it("kubectl-validate accepts every manifest against Kubernetes 1.30's built-in schemas", async () => {
    const files = await manifestFiles();
    expect(files.length).toBeGreaterThanOrEqual(8);
    const { stdout } = await run(goToolPath("kubectl-validate"), [
      ...files,
      "--version",
      "1.30",
      "--output",
      "json",
    ]);
    const results = JSON.parse(stdout) as Record<string, { status: string }[]>;
    for (const file of files) {
      expect(results[file]?.length, file).toBeGreaterThan(0);
      for (const result of results[file] ?? [])
        expect(result, file).toMatchObject({ status: "Success" });
    }
  });

  it("kubectl-validate rejects a misspelt field (the check is real, offline)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gatehouse-k8s-"));
    try {
      const verifier = await readFile(`${K8S}/verifier.yaml`, "utf8");
      const file = join(dir, "verifier.yaml");
      await writeFile(file, verifier.replace("readOnlyRootFilesystem", "readOnlyRootFileSystem"));
      const validate = run(goToolPath("kubectl-validate"), [file, "--version", "1.30"]);
      await expect(validate).rejects.toMatchObject({
        stderr: expect.stringContaining("readOnlyRootFileSystem: Invalid value"),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("compose-go (the Compose spec's loader) accepts the compose file", async () => {
    const model = await composeModel();
    expect(Object.keys(model.services).sort()).toEqual([
      "gatehouse-1",
      "gatehouse-2",
      "grafana",
      "prometheus",
      "redis",
    ]);
  });

  it("promtool accepts the compose Prometheus config", async () => {
    const { stdout } = await run(debianToolPath("promtool"), [
      "check",
      "config",
      "--syntax-only",
      COMPOSE_PROMETHEUS,
    ]);
    expect(stdout).toContain("SUCCESS");
  });
});

describe("infra/ names only what the server has", () => {
  it("every environment variable in compose and Kubernetes is one src/config/schema.ts reads", async () => {
    for (const text of [await readFile(COMPOSE, "utf8"), await manifestsText()]) {
      const names = environmentNames(text);
      expect(names).toContain("REDIS_URL");
      expect(names.filter((name) => !KNOWN_VARIABLES.has(name))).toEqual([]);
    }
  });

  it("every placeholder in the Kubernetes Secret fails its own setting's check", async () => {
    const text = await readFile(`${K8S}/secrets.yaml`, "utf8");
    const envSecret = text.slice(text.indexOf("name: gatehouse-env"), text.indexOf("\n---"));
    const placeholders = Object.fromEntries(
      [...envSecret.matchAll(/^ {2}([A-Z0-9_]+): "([^"]*)"$/gm)].map(([, name, value]) => [
        name,
        value,
      ]),
    );
    expect(Object.keys(placeholders).sort()).toEqual([
      "GATEHOUSE_DPOP_NONCE_SECRET",
      "GATEHOUSE_KEY_ENCRYPTION_KEY",
      "GATEHOUSE_PROXY_HMAC_SECRET",
      "REDIS_URL",
    ]);
    let problems: readonly string[] = [];
    try {
      loadConfig({ mode: "serve", env: placeholders });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    // Each placeholder is refused by name: none of them passes on its own.
    for (const name of Object.keys(placeholders)) {
      expect(
        problems.filter((problem) => problem.includes(`${name}:`)),
        name,
      ).not.toEqual([]);
    }
  });

  it("both compose replicas share Redis, run read-only with no capabilities", async () => {
    const { services } = await composeModel();
    for (const name of ["gatehouse-1", "gatehouse-2"]) {
      expect(services[name], name).toMatchObject({
        read_only: true,
        cap_drop: ["ALL"],
        environment: { REDIS_URL: "redis://redis:6379" },
      });
    }
  });

  it("Prometheus scrapes every compose replica on the metrics port", async () => {
    const { services } = await composeModel();
    const replicas = Object.keys(services).filter((name) => name.startsWith("gatehouse-"));
    expect(replicas).toHaveLength(2);
    for (const name of replicas) {
      expect(services[name]?.environment?.GATEHOUSE_METRICS_PORT).toBe(`${DEFAULTS.metrics.port}`);
    }
    const targets = (await readFile(COMPOSE_PROMETHEUS, "utf8")).match(/targets: \[(.+)\]/)?.[1];
    expect(targets?.split(",").map((target) => target.trim().replaceAll('"', ""))).toEqual(
      replicas.map((name) => `${name}:${DEFAULTS.metrics.port}`),
    );
  });

  it("the Kubernetes probes name the metrics port the configuration sets", async () => {
    const text = await manifestsText();
    expect(text).toContain(`GATEHOUSE_METRICS_PORT: "${DEFAULTS.metrics.port}"`);
    expect(text).toContain(`{name: metrics, containerPort: ${DEFAULTS.metrics.port}}`);
    for (const role of ["issuer", "verifier"]) {
      const deployment = await readFile(`${K8S}/${role}.yaml`, "utf8");
      expect(deployment).toContain(`args: ["serve", "--role", "${role}"]`);
      expect(deployment).toMatch(/livenessProbe:\s+httpGet: \{path: \/healthz, port: metrics\}/);
      expect(deployment).toMatch(/readinessProbe:\s+httpGet: \{path: \/readyz, port: metrics\}/);
    }
  });

  it("the Dockerfile's health check and exposed ports are the server's defaults", async () => {
    const dockerfile = await readFile(DOCKERFILE, "utf8");
    expect(dockerfile).toContain(
      `EXPOSE ${DEFAULTS.grpc.port} ${DEFAULTS.connect.port} ${DEFAULTS.metrics.port}`,
    );
    expect(dockerfile).toContain(`||${DEFAULTS.metrics.port})+'/healthz'`);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
  });
});

describe("the probe paths answer on a running server's metrics listener", () => {
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startTestGatehouse();
  });
  afterAll(async () => {
    await gh.dispose();
  });

  it("every path a probe or health check names answers 200", async () => {
    const text = `${await manifestsText()}\n${await readFile(DOCKERFILE, "utf8")}`;
    const paths = [...new Set(text.match(/\/(?:healthz|readyz)\b/g))].sort();
    expect(paths).toEqual(["/healthz", "/readyz"]);
    for (const path of paths) {
      expect((await fetch(`${gh.metricsUrl}${path}`)).status, path).toBe(200);
    }
  });
});
