/**
 * Two targets' cost compared in alternating short runs on one server: on a machine whose
 * speed drifts over a minute, runs made a minute apart compare the machine as much as the
 * code. Each round measures the baseline and then each other target for a few seconds; the
 * ratio of a round is, by default, baseline ÷ target server CPU per call (so 1.0 means as
 * cheap, in the sense of "Check / Verify" throughput), or what `figure` computes from the two
 * runs (e.g. target p99 ÷ baseline p99); the median over rounds is the figure. `alternateRuns`
 * is the same for any runs (an HTTP path beside gRPC Verify), their summaries kept.
 */
import type { Target } from "../load.js";
import { round, type Summary } from "../report.js";
import { measureRpc, type RpcContext } from "./rpc.js";

export interface InterleavedRatio {
  /** baseline ÷ target server µs per call, each round. */
  readonly rounds: readonly number[];
  readonly median: number;
}

/** Each run of a round: measured seconds, after a warm-up of ROUND_WARMUP_SECONDS. */
export const ROUND_SECONDS = 3;
export const ROUND_WARMUP_SECONDS = 1;
/** What one run of a round lasts in all. */
export const ROUND_RUN_SECONDS = ROUND_SECONDS + ROUND_WARMUP_SECONDS;

/** A round's ratio from its baseline and target runs. */
export type RoundFigure = (baseline: Summary, target: Summary) => number;

/** Baseline ÷ target server CPU per call. */
export const cpuRatio: RoundFigure = (baseline, target) =>
  baseline.serverCpuUsPerCall / Math.max(1, target.serverCpuUsPerCall);

/** Target ÷ baseline server CPU per call: what a call costs beside the baseline's. */
export const costRatio: RoundFigure = (baseline, target) =>
  target.serverCpuUsPerCall / Math.max(1, baseline.serverCpuUsPerCall);

/** Target p99 ÷ baseline p99 (target 4: Verify's tail over the empty RPC's). */
export const p99Ratio: RoundFigure = (baseline, target) =>
  target.p99Ms / Math.max(0.001, baseline.p99Ms);

/** Target ÷ baseline req/s (target 3: an HTTP path's share of gRPC Verify). */
export const rpsRatio: RoundFigure = (baseline, target) => target.rps / Math.max(1, baseline.rps);

/** One kind of run in the rounds, short (ROUND_SECONDS after a warm-up). */
export type RoundRun = () => Promise<Summary>;

/** Each kind's runs, one a round, by name, in the order they ran. */
export type RunRounds = Readonly<Record<string, readonly Summary[]>>;

/** The context of a round's RPC runs: ROUND_SECONDS measured after ROUND_WARMUP_SECONDS. */
export function roundContext(context: RpcContext): RpcContext {
  return {
    ...context,
    settings: { ...context.settings, seconds: ROUND_SECONDS, warmupSeconds: ROUND_WARMUP_SECONDS },
  };
}

/** `rounds` rounds; in each, every kind runs once, in the order given. */
export async function alternateRuns(
  runs: Readonly<Record<string, RoundRun>>,
  rounds: number,
): Promise<RunRounds> {
  const measured = new Map<string, Summary[]>(Object.keys(runs).map((name) => [name, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(runs)) measured.get(name)?.push(await run());
  }
  return Object.fromEntries(measured);
}

/** `figure` of each round from two kinds' runs of that round, and the median. */
export function roundRatios(
  rounds: RunRounds,
  baseline: string,
  target: string,
  figure: RoundFigure,
): InterleavedRatio {
  const base = rounds[baseline] ?? [];
  const values = (rounds[target] ?? []).flatMap((run, i) => {
    const against = base[i];
    return against ? [round(figure(against, run), 3)] : [];
  });
  return { rounds: values, median: median(values) };
}

export async function interleavedRatios(
  context: RpcContext,
  baseline: Target,
  targets: readonly Target[],
  rounds: number,
  figure: RoundFigure = cpuRatio,
): Promise<Record<string, InterleavedRatio>> {
  const short = roundContext(context);
  const runs = Object.fromEntries(
    [baseline, ...targets].map((target) => [target.name, () => measureRpc(target, short)]),
  );
  const measured = await alternateRuns(runs, rounds);
  return Object.fromEntries(
    targets.map((target) => [
      target.name,
      roundRatios(measured, baseline.name, target.name, figure),
    ]),
  );
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : round(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2, 3);
}
