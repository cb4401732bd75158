import { describe, expect, it } from "vitest";
import { closedLoop, type Settle } from "../../../bench/closed-loop.js";
import { clientSaturated } from "../../../bench/report.js";

describe("closedLoop", () => {
  it("keeps every slot busy and counts each outcome once", async () => {
    const slots = new Set<number>();
    let calls = 0;
    const result = await closedLoop(
      (slot, settle) => {
        slots.add(slot);
        const wrong = calls++ % 4 === 3;
        setImmediate(() => {
          settle(wrong ? "wrong answer" : undefined);
          settle("settled twice"); // ignored
        });
        return undefined;
      },
      { concurrency: 3, durationMs: 30 },
    );
    expect(slots).toEqual(new Set([0, 1, 2]));
    expect(result.sent).toBe(calls);
    expect(result.correct + result.errors).toBe(result.sent);
    expect(result.errorKinds.get("wrong answer")).toBe(result.errors);
    expect(result.errorKinds.has("settled twice")).toBe(false);
    expect(result.generator).toBe("node");
    expect(result.clientCores).toBe(1);
  });

  it("cancels what is still in flight after the drain timeout, as errors", async () => {
    let cancelled = 0;
    const result = await closedLoop(
      (_slot, settle: Settle) => () => {
        cancelled += 1;
        setImmediate(() => settle("cancelled"));
      },
      { concurrency: 2, durationMs: 10, drainTimeoutMs: 10 },
    );
    expect(cancelled).toBe(2);
    expect(result).toMatchObject({ sent: 2, correct: 0, errors: 2 });
    expect(result.errorKinds.get("cancelled")).toBe(2);
  });
});

describe("clientSaturated", () => {
  const run = { elapsedMs: 1_000, clientCores: 1, clientElu: undefined };

  it("flags a generator that used its core", () => {
    expect(clientSaturated({ ...run, clientCpuMicros: 950_000 })).toBe(true);
    expect(clientSaturated({ ...run, clientCpuMicros: 500_000 })).toBe(false);
  });

  it("counts every core the generator may use", () => {
    expect(clientSaturated({ ...run, clientCores: 2, clientCpuMicros: 1_500_000 })).toBe(false);
    expect(clientSaturated({ ...run, clientCores: 2, clientCpuMicros: 1_900_000 })).toBe(true);
  });

  it("flags an event loop that was busy though the host gave it little CPU", () => {
    expect(clientSaturated({ ...run, clientCpuMicros: 300_000, clientElu: 0.95 })).toBe(true);
    expect(clientSaturated({ ...run, clientCpuMicros: 300_000, clientElu: 0.5 })).toBe(false);
  });
});
