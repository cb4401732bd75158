import { describe, expect, it } from "vitest";
import { groupReadiness } from "../../../src/observability/cluster-metrics.js";

const ready = { ready: true, checks: { store: "ok", signing_keys: "ok" } } as const;
const storeDown = { ready: false, checks: { store: "failed", signing_keys: "ok" } } as const;

describe("groupReadiness (the primary's /readyz with --workers)", () => {
  it("is ready when every expected worker answered ready", () => {
    expect(groupReadiness([{ readiness: ready }, { readiness: ready }], 2)).toEqual({
      ready: true,
      checks: { workers: "ok", store: "ok", signing_keys: "ok" },
    });
  });

  it("fails a check that fails on any one worker", () => {
    expect(groupReadiness([{ readiness: ready }, { readiness: storeDown }], 2)).toEqual({
      ready: false,
      checks: { workers: "ok", store: "failed", signing_keys: "ok" },
    });
    expect(groupReadiness([{ readiness: storeDown }, { readiness: ready }], 2).checks.store).toBe(
      "failed",
    );
  });

  it("is not ready while a worker is missing or silent, or with none at all", () => {
    expect(groupReadiness([{ readiness: ready }], 2)).toEqual({
      ready: false,
      checks: { workers: "failed", store: "ok", signing_keys: "ok" },
    });
    expect(groupReadiness([], 2)).toEqual({ ready: false, checks: { workers: "failed" } });
  });
});
