/**
 * A benchmarked child process (bench/server.ts, bench/sidecar.ts) as one process, or as the
 * primary of N workers on the same ports with the code `serve --workers` and `sidecar
 * --workers` run (src/app/workers.ts), and its IPC with the bench:
 *   → the child's `ready` message, made from where it listens
 *   ← { type: "usage", collect }  → { type: "usage", cpuMicros, elu }   (cumulative, for
 *                          deltas; with workers, summed over them and the primary; `collect`:
 *                          a full GC first, in every process, when node runs with --expose-gc)
 *   ← { type: "stop" }   → exits once stopped
 * With BENCH_SERVER_PROFILE each serving process profiles its CPU (bench/profile.ts: one
 * profile per interval between usage requests).
 */
import cluster, { type Worker } from "node:cluster";
import {
  announceListening,
  onPrimaryStop,
  type SupervisorOptions,
  superviseWorkers,
} from "../src/app/workers.js";
import { startIntervalProfiler } from "./profile.js";
import { type EventLoopUtilization, processUsage, type ServerMessage } from "./protocol.js";

type UsageMessage = Extract<ServerMessage, { type: "usage" }>;
/** What the parent (or, in a worker, the primary) asks. */
type UsageRequest = { readonly type?: string; readonly collect?: boolean };

/** A started service in this process: where it listens (plain fields) and how it stops. */
export interface BenchService<L extends object> {
  readonly listening: L;
  stop(): Promise<void>;
}

/** Serves alone (answering the bench) or as one worker (answering its primary). */
export async function serveForBench<L extends object>(
  service: BenchService<L>,
  ready: (listening: L) => object,
): Promise<void> {
  const profileDir = process.env.BENCH_SERVER_PROFILE;
  const profiler = profileDir ? await startIntervalProfiler(profileDir) : undefined;
  const stop = () =>
    void (profiler?.stop() ?? Promise.resolve())
      .then(() => service.stop())
      .then(() => process.exit(0));
  process.on("message", (message: UsageRequest) => {
    if (message.type === "usage") {
      if (message.collect) globalThis.gc?.();
      process.send?.(processUsage());
      void profiler?.cut();
    } else if (message.type === "stop") stop();
  });
  if (cluster.isWorker) {
    onPrimaryStop(stop);
    announceListening(service.listening);
    return;
  }
  // The parent died without saying stop: do not linger.
  process.on("disconnect", stop);
  process.send?.(ready(service.listening));
}

/** The primary of `options.count` workers: answers the bench for all of them. */
export async function superviseForBench<L>(
  options: Omit<SupervisorOptions<L>, "report">,
  ready: (listening: L) => object,
): Promise<void> {
  const supervisor = await superviseWorkers({ ...options, report: () => {} });
  const stop = () => void supervisor.stop().then(() => process.exit(0));
  void supervisor.failed.then(() => process.exit(1));
  process.on("message", (message: UsageRequest) => {
    if (message.type === "usage") {
      const ask = (worker: Worker) => usageOf(worker, message.collect === true);
      void Promise.all(supervisor.workers().map(ask)).then((usages) =>
        process.send?.(sumUsage(processUsage(), usages)),
      );
    } else if (message.type === "stop") stop();
  });
  process.on("disconnect", stop);
  process.send?.(ready(supervisor.listening));
}

function usageOf(worker: Worker, collect: boolean): Promise<UsageMessage> {
  return new Promise((resolve) => {
    const onMessage = (message: Partial<UsageMessage>) => {
      if (message?.type !== "usage") return;
      worker.off("message", onMessage);
      resolve(message as UsageMessage);
    };
    worker.on("message", onMessage);
    worker.send({ type: "usage", collect });
  });
}

/**
 * CPU adds up, the primary's included; event-loop utilization is the share of the workers'
 * loop time spent active (the primary's loop, idle but for new connections, is left out).
 */
export function sumUsage(primary: UsageMessage, workers: readonly UsageMessage[]): UsageMessage {
  const total = (pick: (usage: UsageMessage) => number) =>
    workers.reduce((sum, usage) => sum + pick(usage), 0);
  const idle = total((u) => u.elu.idle);
  const active = total((u) => u.elu.active);
  const elu: EventLoopUtilization = { idle, active, utilization: active / (idle + active || 1) };
  return { type: "usage", cpuMicros: primary.cpuMicros + total((u) => u.cpuMicros), elu };
}
