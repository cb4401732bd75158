/**
 * A closed-loop load generator over async tasks (a whole login, say): `concurrency` slots,
 * each starting its next task as soon as the previous one settles. Same result shape as
 * `runLoad`, so the same summary and table apply.
 */
import { performance } from "node:perf_hooks";
import { Reason } from "../gen/gatehouse/v1/errors_pb.js";
import { GatehouseClientError } from "../src/client/errors.js";
import { Histogram } from "./histogram.js";
import type { LoadResult } from "./load.js";

/** undefined when the task's outcome is correct, otherwise what is wrong with it. */
export type Task = (slot: number) => Promise<string | undefined>;

export async function runTasks(
  task: Task,
  options: { readonly concurrency: number; readonly durationMs: number },
): Promise<LoadResult> {
  const latency = new Histogram();
  const errorKinds = new Map<string, number>();
  let sent = 0;
  let correct = 0;
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const start = performance.now();
  const stopAt = start + options.durationMs;
  let end = start;

  const loop = async (slot: number) => {
    while (performance.now() < stopAt) {
      const began = performance.now();
      sent += 1;
      const problem = await task(slot).catch(describeError);
      end = performance.now();
      if (problem === undefined) {
        correct += 1;
        latency.record(end - began);
      } else {
        errorKinds.set(problem, (errorKinds.get(problem) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, slot) => loop(slot)));
  const cpu = process.cpuUsage(cpuBefore);
  return {
    sent,
    correct,
    errors: sent - correct,
    errorKinds,
    elapsedMs: end - start,
    latency,
    clientCpuMicros: cpu.user + cpu.system,
    clientElu: performance.eventLoopUtilization(eluBefore).utilization,
    generator: "node",
  };
}

/** A short, stable error kind: the gRPC code and typed reason, not per-call details. */
export function describeError(error: unknown): string {
  if (error instanceof GatehouseClientError) {
    const reason = error.reason === Reason.UNSPECIFIED ? "" : ` ${Reason[error.reason]}`;
    return `grpc ${error.code}${reason}: ${error.message}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
