/**
 * Two targets' cost compared in alternating short runs on one server: on a machine whose
 * speed drifts over a minute, runs made a minute apart compare the machine as much as the
 * code. Each round measures the baseline and then each other target for a few seconds; the
 * ratio of a round is, by default, baseline ÷ target server CPU per call (so 1.0 means as
 * cheap, in the sense of "Check / Verify" throughput), or what `figure` computes from the two
 * runs (e.g. target p99 ÷ baseline p99); the median over rounds is the figure.
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

/** Target p99 ÷ baseline p99 (target 4: Verify's tail over the empty RPC's). */
export const p99Ratio: RoundFigure = (baseline, target) =>
  target.p99Ms / Math.max(0.001, baseline.p99Ms);

export async function interleavedRatios(
  context: RpcContext,
  baseline: Target,
  targets: readonly Target[],
  rounds: number,
  figure: RoundFigure = cpuRatio,
): Promise<Record<string, InterleavedRatio>> {
  const short = {
    ...context,
    settings: { ...context.settings, seconds: ROUND_SECONDS, warmupSeconds: ROUND_WARMUP_SECONDS },
  };
  const ratios = new Map<string, number[]>(targets.map((target) => [target.name, []]));
  for (let i = 0; i < rounds; i++) {
    const base = await measureRpc(baseline, short);
    for (const target of targets) {
      const run = await measureRpc(target, short);
      ratios.get(target.name)?.push(round(figure(base, run), 3));
    }
  }
  return Object.fromEntries(
    [...ratios].map(([name, values]) => [name, { rounds: values, median: median(values) }]),
  );
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : round(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2, 3);
}
