/**
 * A run's figures, read for the goals of issue 16 (bench/goals.ts): each goal's measurement,
 * from the values the scenarios return, keyed by goal id. A goal whose runs did not take place
 * gets no measurement ("not run"). Ratios are taken between runs of the same bench run.
 */
import type { Measurement } from "./goals.js";
import { PAIR_KINDS } from "./goals.js";
import type { RedisCost } from "./redis-stats.js";
import { type RawRates, round, type Summary } from "./report.js";
import type { AuditChainCheck } from "./scenarios/audit-chain.js";
import type { DenialGrowth } from "./scenarios/denials.js";
import type { DpopRounds } from "./scenarios/dpop.js";
import type { Footprint } from "./scenarios/footprint.js";
import {
  type InterleavedRatio,
  type RunRounds,
  roundRatios,
  rpsRatio,
} from "./scenarios/interleaved.js";
import type { IteratedHashRound } from "./scenarios/iterated-hash.js";
import type { AlternatingLogins } from "./scenarios/login.js";

/** What the goals read of a run (bench/verify.bench.ts's figures). */
export interface GoalInputs {
  /** Summaries by run name (bench/verify.bench.ts names them). */
  readonly results: Readonly<Record<string, Summary>>;
  readonly raw?: Pick<RawRates, "mean" | "peak"> | undefined;
  /** DPoP against the raw verify in alternating rounds: the figure, when the run has it. */
  readonly dpopRounds?: Pick<DpopRounds, "rounds" | "median" | "ratio" | "bound">;
  /** Verify p99 ÷ empty RPC p99 at 8 in flight in alternating rounds, when the run has it. */
  readonly tailRounds?: InterleavedRatio | undefined;
  /** Verify ÷ empty RPC server CPU per call in the same rounds. */
  readonly tailCost?: InterleavedRatio | undefined;
  /** gRPC Verify (`verify`) and each HTTP path (HTTP_ROUND_PATHS) in alternating rounds. */
  readonly httpRounds?: Readonly<Record<number, RunRounds>> | undefined;
  /** Gatehouse ÷ the rules floor in alternating login rounds, when the run has them. */
  readonly loginRulesRounds?: AlternatingLogins | undefined;
  readonly loginStore?: Pick<
    RedisCost,
    "commandsPer" | "cpuUsPer" | "auditBytesPer" | "auditEntriesPer" | "usedMemoryBytesPer"
  >;
  readonly iteratedHash?: Pick<IteratedHashRound, "gatehouseNs" | "pythonNs">;
  readonly footprint?: Pick<Footprint, "firstStartMs" | "restartMs" | "idleRssMiB"> & {
    readonly sustained: Pick<
      Footprint["sustained"],
      "seconds" | "sent" | "correct" | "startMiB" | "peakMiB" | "endMiB" | "idleAfterMiB"
    >;
  };
  readonly auditChain?: AuditChainCheck;
  readonly denials?: Pick<
    DenialGrowth,
    "denied" | "auditBytesPerDenial" | "auditEntriesAdded" | "usedMemoryPerDenial"
  >;
}

/** The HTTP paths measured beside gRPC Verify (bench/verify.bench.ts runs), by run name. */
export const HTTP_ROUND_PATHS = [
  "auth",
  "auth-floor",
  "rest-verify",
  "auth-replica",
  "rest-replica",
] as const;
export type HttpRoundPath = (typeof HTTP_ROUND_PATHS)[number];

export const HTTP_PATH_NAMES: Readonly<Record<HttpRoundPath, string>> = {
  auth: "sidecar forward-auth",
  "auth-floor": "its floor (bench/proxy-floor.ts)",
  "rest-verify": "sidecar REST Verify",
  "auth-replica": "replica forward-auth",
  "rest-replica": "replica REST Verify",
};

/** Each HTTP path's req/s ÷ gRPC Verify's of the same round, for the paths the rounds have. */
export function httpRoundShares(
  rounds: RunRounds,
): Partial<Record<HttpRoundPath, InterleavedRatio>> {
  return Object.fromEntries(
    HTTP_ROUND_PATHS.filter((path) => rounds[path]).map((path) => [
      path,
      roundRatios(rounds, "verify", path, rpsRatio),
    ]),
  );
}

/** The rounds' shares by calls in flight, for BENCH_JSON (the summaries would bloat it). */
export function httpRoundsJson(byInFlight: Readonly<Record<number, RunRounds>>) {
  return Object.fromEntries(
    Object.entries(byInFlight).map(([n, rounds]) => [n, httpRoundShares(rounds)]),
  );
}

/** Target 1's logins are with this many agents; target 6's sustained load lasts this long. */
export const LOGIN_AGENTS = 16;
export const SUSTAIN_SECONDS = 300;

/** Run names: a run at the bench's own concurrency has no `@n` suffix. */
export interface RunNames {
  readonly concurrency: number;
  readonly httpInFlight: readonly number[];
}

export function goalMeasurements(
  figures: GoalInputs,
  names: RunNames,
): Record<string, Measurement> {
  const { results } = figures;
  const at = (run: string, n: number) => results[n === names.concurrency ? run : `${run}@${n}`];
  const found: Record<string, Measurement | undefined> = {
    ...loginGoals(results.login, figures.loginStore),
    "login-floor": floorOf(results["login-floor"], results.login),
    "login-store-floor": floorOf(results["login-store-floor"], results.login),
    "login-rules-floor": floorOf(results["login-rules-floor"], results.login),
    "login-rules-rounds": figures.loginRulesRounds && rulesRounds(figures.loginRulesRounds),
    "audit-chain": figures.auditChain && chainOf(figures.auditChain),
    assertion: results.assertion && rateOf(results.assertion),
    "assertion-floor": floorOf(results["assertion-floor"], results.assertion),
    "assertion-store-floor": floorOf(results["assertion-store-floor"], results.assertion),
    ...Object.fromEntries(
      PAIR_KINDS.map((kind) => [`pair:${kind}`, pairOf(results[`pair:${kind}`])]),
    ),
    "iterated-hash-round": figures.iteratedHash && hashRound(figures.iteratedHash),
    ...Object.fromEntries(
      names.httpInFlight.flatMap((n) => {
        const grpc = at("verify", n);
        const beside = grpcAroundHttp(results, n) ?? grpc;
        const shares = figures.httpRounds?.[n] && httpRoundShares(figures.httpRounds[n]);
        const path = (id: string, run: HttpRoundPath) => {
          const single = share(results[`${run}@${n}`], beside, false);
          const rounds = shares?.[run];
          const runs = [
            ...(figures.httpRounds?.[n]?.verify ?? []),
            ...(figures.httpRounds?.[n]?.[run] ?? []),
          ];
          return [`${id}@${n}`, rounds ? shareRounds(rounds, single, runs) : single];
        };
        return [
          [`connect@${n}`, share(at("verify-connect", n), grpc, true)],
          path("rest-verify", "rest-verify"),
          path("forward-auth", "auth"),
          path("rest-verify-replica", "rest-replica"),
          path("forward-auth-replica", "auth-replica"),
          path("forward-auth-floor", "auth-floor"),
        ];
      }),
    ),
    "verify-p99@8": figures.tailRounds
      ? tailRounds(figures.tailRounds, figures.tailCost, at("verify", 8), at("health", 8))
      : tail(at("verify", 8), at("health", 8)),
    "verify-p50@1": floor(at("verify", 1)),
    dpop: figures.dpopRounds
      ? dpopRounds(figures.dpopRounds, results.dpop)
      : dpopShare(results.dpop, figures.raw),
    ...footprintGoals(figures.footprint),
    "growth-denial": figures.denials && denialGrowth(figures.denials),
  };
  return Object.fromEntries(
    Object.entries(found).filter((entry): entry is [string, Measurement] => entry[1] !== undefined),
  );
}

function measured(value: number, text: string, ...runs: Summary[]): Measurement {
  return { value, text, saturated: runs.some((run) => run.clientSaturated) };
}

/** "169 of 1,697" style: how many were correct of how many were sent. */
function counted(run: Summary): string {
  return `${run.correct} of ${run.sent} correct`;
}

function loginGoals(
  login: Summary | undefined,
  store: GoalInputs["loginStore"],
): Record<string, Measurement | undefined> {
  if (!login) return {};
  const agents =
    login.inFlight === LOGIN_AGENTS ? {} : { incomplete: `target: ${LOGIN_AGENTS} agents` };
  return {
    logins: {
      ...measured(login.rps, `${login.rps}/s (${counted(login)}, ${login.inFlight} agents)`, login),
      ...agents,
    },
    "login-server-cpu": measured(
      login.serverCpuUsPerCall,
      `${login.serverCpuUsPerCall} µs (${login.coreRps}/s per server core)`,
      login,
    ),
    "login-redis-commands":
      store &&
      measured(
        store.commandsPer,
        `${store.commandsPer} per login (Redis's own CPU ${store.cpuUsPer} µs per login)`,
        login,
      ),
    "growth-login": store && {
      value: store.auditBytesPer,
      text:
        `${store.auditBytesPer} B (+${store.auditEntriesPer} audit entries); used_memory ` +
        `+${store.usedMemoryBytesPer} B while its challenge and pass records live`,
      saturated: false,
    },
  };
}

/** A floor's rate, and Gatehouse's rate as a share of it (same agents, same run). */
function floorOf(
  floor: Summary | undefined,
  gatehouse: Summary | undefined,
): Measurement | undefined {
  if (!floor) return undefined;
  const share = gatehouse ? `; Gatehouse ${round(gatehouse.rps / floor.rps, 2)} of it` : "";
  return measured(
    floor.rps,
    `${floor.rps}/s (${counted(floor)}; ${floor.serverCpuUsPerCall} µs server CPU each)${share}`,
    floor,
  );
}

function rulesRounds({ rate, cpu }: AlternatingLogins): Measurement {
  return {
    value: rate.median,
    text:
      `${rate.median} median of ${rate.rounds.length} alternating rounds ` +
      `(${rate.rounds.join(", ")}); server CPU per login, floor ÷ Gatehouse, ${cpu.median} ` +
      `(${cpu.rounds.join(", ")})`,
    saturated: false,
  };
}

function chainOf(chain: AuditChainCheck): Measurement {
  const checked = `${chain.entriesChecked} entries checked`;
  return chain.ok
    ? { value: 1, text: `intact, ${checked}`, saturated: false }
    : { value: 0, text: `${chain.problem ?? "broken"} (${checked})`, saturated: false };
}

function rateOf(run: Summary): Measurement {
  return measured(
    run.rps,
    `${run.rps}/s (${counted(run)}; ${run.serverCpuUsPerCall} µs server CPU each)`,
    run,
  );
}

function pairOf(run: Summary | undefined): Measurement | undefined {
  return (
    run &&
    measured(
      run.rps,
      `${run.rps}/s, ${run.serverCpuUsPerCall} µs server CPU per pair (${counted(run)})`,
      run,
    )
  );
}

function hashRound(r: NonNullable<GoalInputs["iteratedHash"]>): Measurement {
  const speedup = round(r.pythonNs / r.gatehouseNs, 2);
  return {
    value: speedup,
    text: `${speedup}× (hashlib ${r.pythonNs} ns ÷ Gatehouse ${r.gatehouseNs} ns per round)`,
    saturated: false,
  };
}

/**
 * An HTTP path's req/s ÷ gRPC Verify's at the same calls in flight. For Connect (same server
 * process) also gRPC ÷ Connect server CPU per call, which a busy host disturbs less; the
 * sidecar's own CPU is not in the server's, so no such figure for it.
 */
/** gRPC Verify as an HTTP path is compared with: one run, or the mean of two around it. */
type GrpcRate = Summary & { readonly around?: readonly [number, number] };

/**
 * gRPC Verify's rate in the minute of the HTTP sidecar's runs at `n` in flight: the mean of
 * the runs right before and right after them (bench/verify.bench.ts), when both were made.
 */
export function grpcAroundHttp(
  results: Readonly<Record<string, Summary>>,
  n: number,
): GrpcRate | undefined {
  const before = results[`verify-before-http@${n}`];
  const after = results[`verify-after-http@${n}`];
  if (!before || !after) return undefined;
  return {
    ...before,
    rps: Math.round((before.rps + after.rps) / 2),
    clientSaturated: before.clientSaturated || after.clientSaturated,
    around: [before.rps, after.rps],
  };
}

function share(
  http: Summary | undefined,
  grpc: GrpcRate | undefined,
  byCpu: boolean,
): Measurement | undefined {
  if (!http || !grpc) return undefined;
  const value = round(http.rps / Math.max(1, grpc.rps), 3);
  const cpu = byCpu
    ? `; by server CPU per call ${round(grpc.serverCpuUsPerCall / Math.max(1, http.serverCpuUsPerCall), 3)}`
    : "";
  const around = grpc.around
    ? `; gRPC the mean of ${grpc.around[0]} before and ${grpc.around[1]} after`
    : "";
  return measured(value, `${value} (${http.rps} ÷ ${grpc.rps} req/s${cpu}${around})`, http, grpc);
}

function tail(verify: Summary | undefined, empty: Summary | undefined): Measurement | undefined {
  if (!verify || !empty) return undefined;
  const value = round(verify.p99Ms / empty.p99Ms, 3);
  return measured(value, `${value} (${verify.p99Ms} ÷ ${empty.p99Ms} ms)`, verify, empty);
}

/**
 * The median of the alternating rounds, the single runs' ratio beside it, and the rounds' CPU
 * per call ratio: near saturation the tail grows with the work a call costs.
 */
function tailRounds(
  rounds: InterleavedRatio,
  cost: InterleavedRatio | undefined,
  verify: Summary | undefined,
  empty: Summary | undefined,
): Measurement {
  const single = verify && empty ? `; single runs ${tail(verify, empty)?.text}` : "";
  const work = cost
    ? `; server CPU per call, Verify ÷ empty RPC, same rounds ${cost.median} (${cost.rounds.join(", ")})`
    : "";
  return {
    value: rounds.median,
    text:
      `${rounds.median} median of ${rounds.rounds.length} alternating rounds ` +
      `(${rounds.rounds.join(", ")})${single}${work}`,
    saturated: [verify, empty].some((run) => run?.clientSaturated === true),
  };
}

/** An HTTP path's share of gRPC Verify in alternating rounds, the long runs' beside it. */
function shareRounds(
  rounds: InterleavedRatio,
  single: Measurement | undefined,
  runs: readonly Summary[],
): Measurement {
  return {
    value: rounds.median,
    text:
      `${rounds.median} median of ${rounds.rounds.length} alternating rounds with gRPC Verify ` +
      `(${rounds.rounds.join(", ")})${single ? `; long runs ${single.text}` : ""}`,
    saturated: single?.saturated === true || runs.some((run) => run.clientSaturated),
  };
}

function floor(verify: Summary | undefined): Measurement | undefined {
  return verify && measured(verify.p50Ms, `${verify.p50Ms} ms (${counted(verify)})`, verify);
}

/** Per server core (server CPU per call) ÷ the best raw window: steady on a busy host. */
function dpopShare(dpop: Summary | undefined, raw: GoalInputs["raw"]): Measurement | undefined {
  if (!dpop || !raw) return undefined;
  const value = round(dpop.coreRps / raw.peak, 3);
  const byRps = round(dpop.rps / raw.mean, 3);
  return measured(
    value,
    `${value} (${dpop.coreRps}/s per server core ÷ raw ${raw.peak}/s; by req/s ${byRps})`,
    dpop,
  );
}

/** The alternating rounds' median (bench/scenarios/dpop.ts), steadier than one run's. */
function dpopRounds(r: NonNullable<GoalInputs["dpopRounds"]>, dpop?: Summary): Measurement {
  return {
    value: r.ratio,
    text:
      `${r.ratio} per server core, median of ${r.rounds.length} alternating rounds ` +
      `(${round(r.median.dpop, 1)} µs server CPU per call ÷ ${round(r.median.raw, 1)} µs per ` +
      "raw verify; " +
      `the transport alone allows at most ${r.bound})`,
    saturated: dpop?.clientSaturated ?? false,
  };
}

function footprintGoals(f: GoalInputs["footprint"]): Record<string, Measurement> {
  if (!f) return {};
  const s = f.sustained;
  const plain = (value: number, text: string) => ({ value, text, saturated: false });
  return {
    "idle-rss": plain(f.idleRssMiB, `${f.idleRssMiB} MiB`),
    "sustained-rss": {
      ...plain(
        s.peakMiB,
        `${s.startMiB} → ${s.peakMiB} → ${s.endMiB} MiB over ${s.seconds} s (${s.correct} of ` +
          `${s.sent} correct); ${s.idleAfterMiB} MiB idle after`,
      ),
      ...(s.seconds < SUSTAIN_SECONDS && { incomplete: `target: ${SUSTAIN_SECONDS} s of load` }),
    },
    startup: plain(
      f.restartMs,
      `${f.restartMs} ms (median of restarts); first start on an empty store ${f.firstStartMs} ms`,
    ),
  };
}

function denialGrowth(d: NonNullable<GoalInputs["denials"]>): Measurement {
  return {
    value: d.auditBytesPerDenial,
    text:
      `${d.auditBytesPerDenial} B (+${d.auditEntriesAdded} audit entries for ${d.denied} ` +
      `denials); used_memory ${d.usedMemoryPerDenial} B per denial`,
    saturated: false,
  };
}
