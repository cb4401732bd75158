/**
 * The targets of issue 16, declared once, and each figure of a run beside its limit: every
 * run prints one row per goal (what was measured, the limit, the verdict) and puts the goals
 * and the rows in BENCH_JSON. A figure the run did not measure is "not run"; a figure from a
 * run whose load generator saturated its core is flagged (the issue's rules: say so).
 */
import { formatTable } from "./report.js";

export type Limit =
  | { readonly atLeast: number; readonly unit: string }
  | { readonly atMost: number; readonly unit: string }
  /** A property that holds (the measurement's value is 1) or not (0). */
  | { readonly holds: string }
  /** The issue asks for the figure to be printed; `why` says why no limit applies here. */
  | { readonly printed: true; readonly why: string };

export interface Goal {
  /** Stable name: the key of the goal's measurement and of its row in BENCH_JSON. */
  readonly id: string;
  /** The target's number in issue 16. */
  readonly target: number;
  readonly figure: string;
  readonly limit: Limit;
}

export interface Measurement {
  /** The figure the limit applies to. */
  readonly value: number;
  /** The figure as printed, with what it was computed from. */
  readonly text: string;
  /** The load generator saturated its core in a run the figure comes from. */
  readonly saturated: boolean;
  /**
   * How the run fell short of the target's conditions (a shorter sustained load, fewer
   * agents): the figure is shown, but the target was not run.
   */
  readonly incomplete?: string;
}

export type Verdict = "met" | "missed" | "not run";

export interface GoalRow {
  readonly id: string;
  readonly target: number;
  readonly figure: string;
  readonly measured: string;
  readonly value: number | null;
  readonly limit: string;
  readonly verdict: Verdict;
  readonly saturated: boolean;
  /** Why a printed figure has no limit here. */
  readonly note?: string;
}

/** The kinds the gate-pairs run measures (bench/scenarios/gate-pairs.ts: `pair:<kind>`). */
export const PAIR_KINDS = ["signature", "reasoning", "iterated-hash", "hashcash"] as const;

/** Why the floors (bench/login-floor.ts) are printed rather than held to a limit. */
const FLOOR_WHY =
  "what this machine allows any Node gRPC gate (bench/login-floor.ts); Gatehouse's share of it";
const STORE_FLOOR_WHY =
  "what this machine allows any Node gRPC gate whose one-time state is on Redis, beside it " +
  "(bench/login-floor.ts); Gatehouse's share of it";

const RULES_FLOOR_WHY =
  "what this machine allows a gate that keeps Gatehouse's rules with Gatehouse's store work, " +
  "beside it (bench/login-floor-rules.ts); Gatehouse's share of it: the cost of its own code";

/** Issue 16's targets; target 3 once per level of calls in flight the HTTP runs use. */
export function issue16Goals(httpInFlight: readonly number[]): readonly Goal[] {
  const http = (id: string, path: string) =>
    httpInFlight.map((n) =>
      goal(`${id}@${n}`, 3, `${path} ÷ gRPC Verify, req/s at ${n} in flight`, atLeast(0.6, "×")),
    );
  return [
    goal("logins", 1, "full logins/s, Redis store", atLeast(1_000, "/s")),
    goal("audit-chain", 1, "audit chain after the login runs", { holds: "every entry verifies" }),
    printed("login-redis-commands", 1, "Redis commands per login", "the issue asks to print it"),
    printed("login-server-cpu", 1, "server CPU per login", "the issue asks to print it"),
    printed(
      "login-floor",
      1,
      "the login floor: logins/s of a server doing only the transport and two Ed25519 operations",
      FLOOR_WHY,
    ),
    printed(
      "login-store-floor",
      1,
      "the store floor: the same, its challenges, passes and one audit line per RPC on Redis",
      STORE_FLOOR_WHY,
    ),
    printed(
      "login-rules-floor",
      1,
      "the rules floor: the same, plus Gatehouse's store work for its rules (limits, registry " +
        "and revocation reads, chained signed audit), with Gatehouse's own store adapters",
      RULES_FLOOR_WHY,
    ),
    printed(
      "login-rules-rounds",
      1,
      "Gatehouse's logins/s ÷ the rules floor's, alternating short rounds on the same Redis",
      "the same two servers a few seconds apart, so the host's drift cancels: the cost of " +
        "Gatehouse's own code beside its store work",
    ),
    goal("assertion", 1, "assertion grants/s (RFC 7523, one RPC)", atLeast(2_500, "/s")),
    printed(
      "assertion-floor",
      1,
      "the assertion floor: grants/s of a server doing only the transport and two Ed25519 operations",
      FLOOR_WHY,
    ),
    printed(
      "assertion-store-floor",
      1,
      "the store floor: the same, its jti and one audit line per grant on Redis",
      STORE_FLOOR_WHY,
    ),
    ...PAIR_KINDS.map((kind) =>
      printed(
        `pair:${kind}`,
        2,
        `Challenge → Submit pairs/s and server CPU per pair, ${kind}`,
        "≥ 2× the Python gate is measured side by side, outside this bench",
      ),
    ),
    goal(
      "iterated-hash-round",
      2,
      "iterated-hash round, hashlib ns ÷ Gatehouse ns",
      atLeast(1, "×"),
    ),
    ...http("connect", "Verify over Connect JSON"),
    ...http("rest-verify", "sidecar REST Verify"),
    ...http("forward-auth", "sidecar forward-auth"),
    ...http("rest-verify-replica", "sidecar REST Verify, in-process verifier replica"),
    ...http("forward-auth-replica", "sidecar forward-auth, in-process verifier replica"),
    ...httpInFlight.map((n) =>
      printed(
        `forward-auth-floor@${n}`,
        3,
        `the upstream floor: forward-auth through an HTTP/2 → gRPC hop doing nothing else ÷ gRPC Verify, ${n} in flight`,
        "what this machine allows any Node front that asks Gatehouse over gRPC (bench/proxy-floor.ts)",
      ),
    ),
    goal("verify-p99@8", 4, "Verify p99 ÷ empty RPC p99, 8 in flight", atMost(1.2, "×")),
    goal("verify-p50@1", 4, "Verify p50, 1 in flight", atMost(0.5, "ms")),
    goal("dpop", 5, "DPoP Verify ÷ raw Ed25519 verify, per server core", atLeast(0.6, "×")),
    goal("idle-rss", 6, "RSS at idle", atMost(80, "MiB")),
    goal("sustained-rss", 6, "RSS under sustained mixed load (peak)", atMost(200, "MiB")),
    goal("startup", 6, "start-up to ready, restart", atMost(1_000, "ms")),
    // The audit a login writes is kept (until pruned); its challenge and pass records expire.
    goal("growth-login", 7, "store growth per login, kept (audit)", atMost(3_072, "B")),
    // Denials fold per key and window (src/audit/denials.ts): one entry per key per window.
    goal("growth-denial", 7, "store growth per denied Verify, kept (audit)", atMost(1, "B")),
  ];
}

function goal(id: string, target: number, figure: string, limit: Limit): Goal {
  return { id, target, figure, limit };
}

function printed(id: string, target: number, figure: string, why: string): Goal {
  return goal(id, target, figure, { printed: true, why });
}

function atLeast(value: number, unit: string): Limit {
  return { atLeast: value, unit };
}

function atMost(value: number, unit: string): Limit {
  return { atMost: value, unit };
}

/** A measured figure against its limit; a figure that is not a finite number is missed. */
export function verdictOf(limit: Limit, measurement: Measurement | undefined): Verdict {
  if (!measurement || measurement.incomplete !== undefined) return "not run";
  if ("printed" in limit) return "met";
  if ("holds" in limit) return measurement.value === 1 ? "met" : "missed";
  if (!Number.isFinite(measurement.value)) return "missed";
  const met =
    "atLeast" in limit ? measurement.value >= limit.atLeast : measurement.value <= limit.atMost;
  return met ? "met" : "missed";
}

export function formatLimit(limit: Limit): string {
  if ("printed" in limit) return "printed";
  if ("holds" in limit) return limit.holds;
  const [sign, value] = "atLeast" in limit ? ["≥", limit.atLeast] : ["≤", limit.atMost];
  return limit.unit === "×" ? `${sign} ${value}×` : `${sign} ${value} ${limit.unit}`;
}

/** One row per goal, in the goals' order. */
export function goalRows(
  goals: readonly Goal[],
  measurements: Readonly<Record<string, Measurement>>,
): GoalRow[] {
  return goals.map((goal) => {
    const measurement = measurements[goal.id];
    return {
      id: goal.id,
      target: goal.target,
      figure: goal.figure,
      measured: measurement
        ? measurement.text + (measurement.incomplete ? ` [${measurement.incomplete}]` : "")
        : "—",
      value: measurement && Number.isFinite(measurement.value) ? measurement.value : null,
      limit: formatLimit(goal.limit),
      verdict: verdictOf(goal.limit, measurement),
      saturated: measurement?.saturated ?? false,
      ...("printed" in goal.limit && { note: goal.limit.why }),
    };
  });
}

/** The closing table: the rows, then the count of each verdict. */
export function formatGoalRows(rows: readonly GoalRow[]): string[] {
  const header = ["#", "figure", "measured", "limit", "verdict"];
  const table = formatTable(
    header,
    rows.map((row) => [
      String(row.target),
      row.figure,
      row.measured,
      row.limit,
      row.verdict + (row.saturated ? " (load generator saturated)" : ""),
    ]),
    header.length,
  );
  const count = (verdict: Verdict) => rows.filter((row) => row.verdict === verdict).length;
  const saturated = rows.filter((row) => row.saturated).length;
  const shown = rows.filter((row) => row.verdict !== "not run");
  const notes = [...new Set(shown.flatMap((row) => (row.note ? [row.note] : [])))];
  return [
    ...table,
    ...notes.map((note) => `printed, no limit here: ${note}`),
    `${count("met")} met, ${count("missed")} missed, ${count("not run")} not run in this run` +
      (saturated > 0
        ? `; ${saturated} from runs whose load generator saturated its core (they may ` +
          "measure the client, not Gatehouse)"
        : ""),
  ];
}
