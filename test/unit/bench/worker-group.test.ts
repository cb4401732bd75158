import { describe, expect, it } from "vitest";
import { sumUsage } from "../../../bench/worker-group.js";

const usage = (cpuMicros: number, idle: number, active: number) => ({
  type: "usage" as const,
  cpuMicros,
  elu: { idle, active, utilization: active / (idle + active) },
});

describe("sumUsage (a bench server's or sidecar's usage with workers)", () => {
  it("adds every process's CPU, the primary's included", () => {
    const summed = sumUsage(usage(1_000, 900, 100), [usage(20_000, 10, 30), usage(30_000, 30, 30)]);
    expect(summed.cpuMicros).toBe(51_000);
  });

  it("takes event-loop use from the workers' loops only (the primary's idles)", () => {
    const summed = sumUsage(usage(1_000, 900, 100), [usage(20_000, 10, 30), usage(30_000, 30, 30)]);
    expect(summed.elu).toEqual({ idle: 40, active: 60, utilization: 0.6 });
  });

  it("is the primary's CPU and no loop use without workers", () => {
    expect(sumUsage(usage(1_000, 900, 100), [])).toEqual({
      type: "usage",
      cpuMicros: 1_000,
      elu: { idle: 0, active: 0, utilization: 0 },
    });
  });
});
