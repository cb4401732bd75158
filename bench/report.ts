/** Turning load results into the table and the BENCH_JSON figures. */
import type { Generator, LoadResult } from "./load.js";
import type { VerifyRate } from "./scenarios/crypto.js";
import type { ServerUsage } from "./spawn-server.js";

export interface Summary {
  /** The load generator: grpc-js in this process, or bench/loadgen (Go). */
  readonly generator: Generator;
  /** Requests (logins, for the login run) in flight. */
  readonly inFlight: number;
  readonly sent: number;
  readonly correct: number;
  readonly errors: number;
  /** Correct answers (successful logins) per second. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Percent of one core. */
  readonly clientCpu: number;
  readonly serverCpu: number;
  /** Event-loop utilization, percent (null for the Go generator: no event loop). */
  readonly clientElu: number | null;
  readonly serverElu: number;
  /** Server CPU time per correct answer, µs: the server's cost, whichever side was the limit. */
  readonly serverCpuUsPerCall: number;
  /** 10^6 / serverCpuUsPerCall: what one fully busy server core would answer per second. */
  readonly coreRps: number;
  readonly errorKinds: Record<string, number>;
  /**
   * The load generator used (nearly) all the cores it may use: the figure may measure the
   * client rather than the server (issue 16's rules: say so). See `clientSaturated`.
   */
  readonly clientSaturated: boolean;
  /** Go generator, requests each sent once (DPoP): they ran out before the end of the run. */
  readonly requestsExhausted?: boolean;
}

export function summarize(
  result: LoadResult,
  inFlight: number,
  before: ServerUsage,
  after: ServerUsage,
): Summary {
  const elapsedUs = result.elapsedMs * 1000;
  const serverCpuMicros = after.cpuMicros - before.cpuMicros;
  const active = after.elu.active - before.elu.active;
  const idle = after.elu.idle - before.elu.idle;
  return {
    generator: result.generator,
    inFlight,
    sent: result.sent,
    correct: result.correct,
    errors: result.errors,
    rps: round((result.correct * 1000) / result.elapsedMs, 0),
    p50Ms: round(result.latency.percentileMs(50), 3),
    p99Ms: round(result.latency.percentileMs(99), 3),
    maxMs: round(result.latency.maxMs, 3),
    meanMs: round(result.latency.meanMs, 3),
    clientCpu: round((result.clientCpuMicros / elapsedUs) * 100, 0),
    serverCpu: round((serverCpuMicros / elapsedUs) * 100, 0),
    clientElu: result.clientElu === undefined ? null : round(result.clientElu * 100, 0),
    serverElu: round((active / (active + idle)) * 100, 0),
    serverCpuUsPerCall: round(serverCpuMicros / Math.max(1, result.correct), 0),
    coreRps: round((result.correct * 1e6) / Math.max(1, serverCpuMicros), 0),
    errorKinds: Object.fromEntries(result.errorKinds),
    clientSaturated: clientSaturated(result),
  };
}

/** From this share of its cores (CPU time or, in this process, event-loop busy time) on. */
const SATURATED_SHARE = 0.9;

/**
 * Whether the load generator ran out of core: its CPU time reached SATURATED_SHARE of the
 * cores it may use, or (the generator in this process) its event loop was that busy, which
 * also catches a loop that waited for a core the host's other work held.
 */
export function clientSaturated(
  result: Pick<LoadResult, "clientCpuMicros" | "clientElu" | "clientCores" | "elapsedMs">,
): boolean {
  const coreMicros = Math.max(1, result.elapsedMs * 1000 * result.clientCores);
  const cpuShare = result.clientCpuMicros / coreMicros;
  return cpuShare >= SATURATED_SHARE || (result.clientElu ?? 0) >= SATURATED_SHARE;
}

/** Aligned columns: the first `leftColumns` left-aligned (text), the others right-aligned. */
export function formatTable(header: string[], rows: string[][], leftColumns = 1): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function summaryTable(results: Record<string, Summary>): string[] {
  const header = [
    ...["run", "gen", "in flight", "sent", "correct", "errors", "req/s"],
    ...["p50 ms", "p99 ms", "max ms"],
    ...["client CPU (loop)", "server CPU (loop)", "server µs/call", "req/s per server core"],
  ];
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    r.generator,
    ...[r.inFlight, r.sent, r.correct, r.errors, r.rps].map(String),
    ...[r.p50Ms, r.p99Ms, r.maxMs].map((ms) => ms.toFixed(2)),
    `${r.clientCpu}% (${r.clientElu === null ? "go" : `${r.clientElu}%`})` +
      (r.clientSaturated ? " SATURATED" : ""),
    `${r.serverCpu}% (${r.serverElu}%)`,
    String(r.serverCpuUsPerCall),
    String(r.coreRps),
  ]);
  return formatTable(header, rows);
}

/** The raw Ed25519 verify rate on one core (bench/scenarios/crypto.ts), around the load runs. */
export interface RawRates {
  /** Verifications/s over the loop before the load runs, after them, and their mean. */
  readonly before: number;
  readonly after: number;
  readonly mean: number;
  /** The best 100 ms window of either loop. */
  readonly peak: number;
}

export function rawRates(before: VerifyRate, after: VerifyRate): RawRates {
  return {
    before: round(before.mean, 0),
    after: round(after.mean, 0),
    mean: round((before.mean + after.mean) / 2, 0),
    peak: round(Math.max(before.peak, after.peak), 0),
  };
}

/** `a / b`, or undefined when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : round(a / b, 3);
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
