import { describe, expect, it } from "vitest";
import { goalMeasurements } from "../../../bench/goal-figures.js";
import {
  formatGoalRows,
  formatLimit,
  goalRows,
  issue16Goals,
  type Limit,
  type Measurement,
  verdictOf,
} from "../../../bench/goals.js";
import type { Summary } from "../../../bench/report.js";

const IN_FLIGHT = [1, 8, 64];
const NAMES = { concurrency: 64, httpInFlight: IN_FLIGHT };

function figure(value: number, saturated = false): Measurement {
  return { value, text: String(value), saturated };
}

function summary(overrides: Partial<Summary> = {}): Summary {
  return {
    generator: "go",
    inFlight: 64,
    sent: 1_000,
    correct: 1_000,
    errors: 0,
    rps: 1_000,
    p50Ms: 1,
    p99Ms: 2,
    maxMs: 3,
    meanMs: 1,
    clientCpu: 20,
    serverCpu: 90,
    clientElu: null,
    serverElu: 80,
    serverCpuUsPerCall: 500,
    coreRps: 2_000,
    errorKinds: {},
    clientSaturated: false,
    ...overrides,
  };
}

describe("issue 16 goals", () => {
  it("declares every target of the issue, each goal once", () => {
    const goals = issue16Goals(IN_FLIGHT);
    const ids = goals.map((goal) => goal.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(goals.map((goal) => goal.target))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
  });

  it("compares every HTTP path with gRPC Verify at each level of calls in flight", () => {
    const ids = issue16Goals([1, 8, 32]).map((goal) => goal.id);
    for (const path of ["connect", "rest-verify", "forward-auth"]) {
      expect(ids.filter((id) => id.startsWith(`${path}@`))).toEqual([
        `${path}@1`,
        `${path}@8`,
        `${path}@32`,
      ]);
    }
  });

  it("holds the issue's limits", () => {
    const limit = (id: string) => issue16Goals(IN_FLIGHT).find((goal) => goal.id === id)?.limit;
    expect(limit("logins")).toEqual({ atLeast: 1_000, unit: "/s" });
    expect(limit("assertion")).toEqual({ atLeast: 2_500, unit: "/s" });
    expect(limit("connect@8")).toEqual({ atLeast: 0.6, unit: "×" });
    expect(limit("verify-p99@8")).toEqual({ atMost: 1.2, unit: "×" });
    expect(limit("verify-p50@1")).toEqual({ atMost: 0.5, unit: "ms" });
    expect(limit("dpop")).toEqual({ atLeast: 0.6, unit: "×" });
    expect(limit("idle-rss")).toEqual({ atMost: 80, unit: "MiB" });
    expect(limit("sustained-rss")).toEqual({ atMost: 200, unit: "MiB" });
    expect(limit("startup")).toEqual({ atMost: 1_000, unit: "ms" });
  });
});

describe("verdictOf", () => {
  const atLeast: Limit = { atLeast: 0.6, unit: "×" };
  const atMost: Limit = { atMost: 80, unit: "MiB" };

  it("meets a lower limit at or above it, misses it below", () => {
    expect(verdictOf(atLeast, figure(0.6))).toBe("met");
    expect(verdictOf(atLeast, figure(0.75))).toBe("met");
    expect(verdictOf(atLeast, figure(0.599))).toBe("missed");
  });

  it("meets an upper limit at or below it, misses it above", () => {
    expect(verdictOf(atMost, figure(80))).toBe("met");
    expect(verdictOf(atMost, figure(80.1))).toBe("missed");
  });

  it("says not run when the run did not measure the figure", () => {
    expect(verdictOf(atLeast, undefined)).toBe("not run");
    expect(verdictOf({ printed: true, why: "x" }, undefined)).toBe("not run");
  });

  it("misses a figure that is not a number, whatever the limit's direction", () => {
    expect(verdictOf(atLeast, figure(Number.NaN))).toBe("missed");
    expect(verdictOf(atMost, figure(Number.NaN))).toBe("missed");
    expect(verdictOf(atMost, figure(Number.NEGATIVE_INFINITY))).toBe("missed");
  });

  it("meets a figure the issue only asks to print once it is printed", () => {
    expect(verdictOf({ printed: true, why: "x" }, figure(68.4))).toBe("met");
  });
});

describe("formatLimit", () => {
  it("writes the limit with its unit", () => {
    expect(formatLimit({ atLeast: 1_000, unit: "/s" })).toBe("≥ 1000 /s");
    expect(formatLimit({ atMost: 1.2, unit: "×" })).toBe("≤ 1.2×");
    expect(formatLimit({ printed: true, why: "asked" })).toBe("printed");
  });
});

describe("goal rows from a run's figures", () => {
  it("puts each measured figure beside its limit and the rest as not run", () => {
    const results = {
      "health@8": summary({ p99Ms: 10 }),
      "verify@8": summary({ p99Ms: 13 }),
      "verify@1": summary({ p50Ms: 0.42, sent: 500, correct: 500 }),
      login: summary({ rps: 169, sent: 1_697, correct: 1_697, inFlight: 16 }),
    };
    const rows = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements({ results }, NAMES));
    const row = (id: string) => rows.find((r) => r.id === id);
    expect(row("verify-p99@8")).toMatchObject({ value: 1.3, verdict: "missed" });
    expect(row("verify-p50@1")).toMatchObject({ value: 0.42, verdict: "met" });
    expect(row("verify-p50@1")?.measured).toContain("500 of 500 correct");
    expect(row("logins")).toMatchObject({ value: 169, verdict: "missed", limit: "≥ 1000 /s" });
    expect(row("logins")?.measured).toContain("1697 of 1697 correct, 16 agents");
    expect(row("login-server-cpu")).toMatchObject({ value: 500, verdict: "met" });
    expect(row("login-redis-commands")).toMatchObject({ verdict: "not run", value: null });
    expect(row("dpop")).toMatchObject({ verdict: "not run", measured: "—" });
    expect(row("idle-rss")?.verdict).toBe("not run");
  });

  it("prints each floor beside Gatehouse's share of it", () => {
    const results = {
      login: summary({ rps: 400, inFlight: 16 }),
      "login-floor": summary({ rps: 800, serverCpuUsPerCall: 1_900, inFlight: 16 }),
      "login-store-floor": summary({ rps: 640, serverCpuUsPerCall: 2_100, inFlight: 16 }),
      "assertion-floor": summary({ rps: 1_500, sent: 1_500, correct: 1_500 }),
      "verify@8": summary({ rps: 2_000 }),
      "auth-floor@8": summary({ rps: 600 }),
    };
    const rows = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements({ results }, NAMES));
    const row = (id: string) => rows.find((r) => r.id === id);
    expect(row("login-floor")).toMatchObject({ value: 800, verdict: "met", limit: "printed" });
    expect(row("login-floor")?.measured).toBe(
      "800/s (1000 of 1000 correct; 1900 µs server CPU each); Gatehouse 0.5 of it",
    );
    expect(row("login-store-floor")?.measured).toBe(
      "640/s (1000 of 1000 correct; 2100 µs server CPU each); Gatehouse 0.63 of it",
    );
    // No Gatehouse assertion run: the floor alone, without a share.
    expect(row("assertion-floor")?.measured).toBe(
      "1500/s (1500 of 1500 correct; 500 µs server CPU each)",
    );
    expect(row("forward-auth-floor@8")).toMatchObject({ value: 0.3, limit: "printed" });
    expect(row("forward-auth-floor@1")?.verdict).toBe("not run");
    expect(row("assertion-store-floor")?.verdict).toBe("not run");
  });

  it("compares an HTTP path with gRPC Verify at the same calls in flight", () => {
    const results = {
      verify: summary({ rps: 4_000, serverCpuUsPerCall: 240 }),
      "verify-connect": summary({ rps: 2_800, serverCpuUsPerCall: 200 }),
      "verify@8": summary({ rps: 2_000 }),
      "auth@8": summary({ rps: 500 }),
    };
    const rows = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements({ results }, NAMES));
    const row = (id: string) => rows.find((r) => r.id === id);
    expect(row("connect@64")).toMatchObject({ value: 0.7, verdict: "met" });
    expect(row("connect@64")?.measured).toContain("by server CPU per call 1.2");
    expect(row("forward-auth@8")).toMatchObject({ value: 0.25, verdict: "missed" });
    expect(row("connect@8")?.verdict).toBe("not run");
  });

  it("compares the sidecar with gRPC Verify measured around its runs, when it was", () => {
    const results = {
      "verify@1": summary({ rps: 4_000 }),
      "verify-connect@1": summary({ rps: 2_800 }),
      "verify-before-http@1": summary({ rps: 3_000 }),
      "verify-after-http@1": summary({ rps: 2_000, clientSaturated: true }),
      "rest-replica@1": summary({ rps: 1_550 }),
    };
    const rows = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements({ results }, NAMES));
    const row = (id: string) => rows.find((r) => r.id === id);
    // Connect keeps the bench's own gRPC run; the sidecar's paths the mean around them.
    expect(row("connect@1")).toMatchObject({ value: 0.7 });
    expect(row("rest-verify-replica@1")).toMatchObject({ value: 0.62, verdict: "met" });
    expect(row("rest-verify-replica@1")?.measured).toBe(
      "0.62 (1550 ÷ 2500 req/s; gRPC the mean of 3000 before and 2000 after)",
    );
    expect(row("rest-verify-replica@1")?.saturated).toBe(true);
  });

  it("holds the sidecar to the median of its alternating rounds with gRPC Verify", () => {
    const results = {
      "verify-before-http@64": summary({ rps: 3_000 }),
      "verify-after-http@64": summary({ rps: 3_000 }),
      "rest-replica@64": summary({ rps: 1_500 }),
    };
    const rate = (...rps: number[]) => rps.map((value) => summary({ rps: value }));
    const httpRounds = {
      64: {
        verify: rate(2_000, 3_000, 2_500),
        "rest-replica": [...rate(1_300, 2_100), summary({ rps: 1_500, clientSaturated: true })],
        auth: rate(500, 600),
      },
    };
    const rows = goalRows(
      issue16Goals(IN_FLIGHT),
      goalMeasurements({ results, httpRounds }, NAMES),
    );
    const row = (id: string) => rows.find((r) => r.id === id);
    // Each round's ratio is taken within the round: 0.65, 0.7, 0.6.
    expect(row("rest-verify-replica@64")).toMatchObject({ value: 0.65, verdict: "met" });
    expect(row("rest-verify-replica@64")?.measured).toBe(
      "0.65 median of 3 alternating rounds with gRPC Verify (0.65, 0.7, 0.6); " +
        "long runs 0.5 (1500 ÷ 3000 req/s; gRPC the mean of 3000 before and 3000 after)",
    );
    // A saturated generator in a run of the path's or gRPC's rounds is said; another path's
    // is not that figure's.
    expect(row("rest-verify-replica@64")?.saturated).toBe(true);
    expect(row("forward-auth@64")?.saturated).toBe(false);
    // A round without its gRPC run counts no ratio; a path without long runs has rounds only.
    expect(row("forward-auth@64")).toMatchObject({ value: 0.225, verdict: "missed" });
    expect(row("forward-auth-floor@64")?.verdict).toBe("not run");
  });

  it("holds Verify's tail to the median of the alternating rounds when the run has them", () => {
    const results = {
      "health@8": summary({ p99Ms: 2 }),
      "verify@8": summary({ p99Ms: 3 }),
    };
    const tailRounds = { rounds: [1.1, 1.3, 1.05], median: 1.1 };
    const tailCost = { rounds: [1.2, 1.3, 1.25], median: 1.25 };
    const rows = goalRows(
      issue16Goals(IN_FLIGHT),
      goalMeasurements({ results, tailRounds, tailCost }, NAMES),
    );
    const row = rows.find((r) => r.id === "verify-p99@8");
    expect(row).toMatchObject({ value: 1.1, verdict: "met" });
    expect(row?.measured).toBe(
      "1.1 median of 3 alternating rounds (1.1, 1.3, 1.05); single runs 1.5 (3 ÷ 2 ms); " +
        "server CPU per call, Verify ÷ empty RPC, same rounds 1.25 (1.2, 1.3, 1.25)",
    );
  });

  it("flags a figure when the load generator saturated either run it comes from", () => {
    const results = {
      "health@8": summary({ clientSaturated: true }),
      "verify@8": summary(),
      "verify@1": summary(),
    };
    const rows = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements({ results }, NAMES));
    expect(rows.find((r) => r.id === "verify-p99@8")?.saturated).toBe(true);
    expect(rows.find((r) => r.id === "verify-p50@1")?.saturated).toBe(false);
    const printed = formatGoalRows(rows).join("\n");
    expect(printed).toMatch(/Verify p99 .*met \(load generator saturated\)/);
    expect(printed).toContain("1 from runs whose load generator saturated its core");
  });

  it("reads footprint, growth and the iterated-hash round", () => {
    const figures = {
      results: {},
      iteratedHash: { gatehouseNs: 681, pythonNs: 651 },
      footprint: {
        firstStartMs: 3_767,
        restartMs: 900,
        idleRssMiB: 118.1,
        sustained: {
          seconds: 300,
          sent: 50,
          correct: 50,
          startMiB: 118,
          peakMiB: 199,
          endMiB: 183,
          idleAfterMiB: 183,
        },
      },
      denials: {
        denied: 20_000,
        auditBytesPerDenial: 0.03,
        auditEntriesAdded: 1,
        usedMemoryPerDenial: 2.5,
      },
    };
    const rows = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements(figures, NAMES));
    const row = (id: string) => rows.find((r) => r.id === id);
    expect(row("iterated-hash-round")).toMatchObject({ value: 0.96, verdict: "missed" });
    expect(row("startup")).toMatchObject({ value: 900, verdict: "met" });
    expect(row("startup")?.measured).toContain("first start on an empty store 3767 ms");
    expect(row("idle-rss")).toMatchObject({ value: 118.1, verdict: "missed" });
    expect(row("sustained-rss")).toMatchObject({ value: 199, verdict: "met" });
    expect(row("sustained-rss")?.measured).toContain("118 → 199 → 183 MiB");
    expect(row("growth-denial")).toMatchObject({ value: 0.03, verdict: "met" });
  });

  it("shows a figure from a run short of the target's conditions, as not run", () => {
    const sustained = { seconds: 30, sent: 9, correct: 9, startMiB: 1, peakMiB: 2, endMiB: 2 };
    const figures = {
      results: { login: summary({ inFlight: 4, rps: 5_000 }) },
      footprint: {
        firstStartMs: 500,
        restartMs: 400,
        idleRssMiB: 60,
        sustained: { ...sustained, idleAfterMiB: 2 },
      },
    };
    const rows = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements(figures, NAMES));
    const row = (id: string) => rows.find((r) => r.id === id);
    expect(row("logins")).toMatchObject({ verdict: "not run", value: 5_000 });
    expect(row("logins")?.measured).toContain("[target: 16 agents]");
    expect(row("sustained-rss")).toMatchObject({ verdict: "not run", value: 2 });
    expect(row("sustained-rss")?.measured).toContain("[target: 300 s of load]");
    expect(row("idle-rss")?.verdict).toBe("met");
  });

  it("takes DPoP from the alternating rounds when the run has them", () => {
    const round = { idle: 0, raw: 60, empty: 200, bearer: 250, dpop: 400 };
    const figures = {
      results: { dpop: summary({ coreRps: 2_500 }) },
      raw: { mean: 10_000, peak: 16_000 },
      dpopRounds: { rounds: [round, round, round], median: round, ratio: 0.15, bound: 0.23 },
    };
    const rows = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements(figures, NAMES));
    const dpop = rows.find((r) => r.id === "dpop");
    expect(dpop).toMatchObject({ value: 0.15, verdict: "missed" });
    expect(dpop?.measured).toContain("median of 3 alternating rounds");
    const { dpopRounds: _, ...single } = figures;
    const byRun = goalRows(issue16Goals(IN_FLIGHT), goalMeasurements(single, NAMES));
    expect(byRun.find((r) => r.id === "dpop")?.value).toBe(0.156);
  });

  it("meets the audit chain goal only when every entry verified", () => {
    const goals = issue16Goals(IN_FLIGHT);
    const chain = (auditChain: { ok: boolean; entriesChecked: number; problem?: string }) =>
      goalRows(goals, goalMeasurements({ results: {}, auditChain }, NAMES)).find(
        (row) => row.id === "audit-chain",
      );
    expect(chain({ ok: true, entriesChecked: 5_100 })).toMatchObject({
      verdict: "met",
      measured: "intact, 5100 entries checked",
      limit: "every entry verifies",
    });
    const broken = chain({ ok: false, entriesChecked: 40, problem: "broken at 41: SIGNATURE" });
    expect(broken).toMatchObject({ verdict: "missed", value: 0 });
    expect(broken?.measured).toContain("broken at 41");
  });

  it("counts each verdict under the table", () => {
    const goals = issue16Goals([1]);
    const rows = goalRows(goals, {
      logins: figure(1_200),
      assertion: figure(10),
      "login-server-cpu": figure(500),
    });
    const lines = formatGoalRows(rows);
    expect(lines.at(-1)).toBe(`2 met, 1 missed, ${goals.length - 3} not run in this run`);
    expect(lines).toContain("printed, no limit here: the issue asks to print it");
    expect(lines.join("\n")).not.toContain("the Python gate"); // no pair row was run
  });
});
