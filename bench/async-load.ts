/**
 * Load of async tasks (a whole login, say) on the bench's closed loop (bench/closed-loop.ts):
 * each slot starts its next task as soon as the previous one settles. Same result shape as
 * `runLoad`, so the same summary and table apply.
 */
import { Reason } from "../gen/gatehouse/v1/errors_pb.js";
import { GatehouseClientError } from "../src/client/errors.js";
import { closedLoop, type LoopOptions } from "./closed-loop.js";
import type { LoadResult } from "./load.js";

/** undefined when the task's outcome is correct, otherwise what is wrong with it. */
export type Task = (slot: number) => Promise<string | undefined>;

export function runTasks(task: Task, options: LoopOptions): Promise<LoadResult> {
  return closedLoop((slot, settle) => {
    task(slot).then(settle, (error: unknown) => settle(describeError(error)));
    return undefined;
  }, options);
}

/** A short, stable error kind: the gRPC code and typed reason, not per-call details. */
export function describeError(error: unknown): string {
  if (error instanceof GatehouseClientError) {
    const reason = error.reason === Reason.UNSPECIFIED ? "" : ` ${Reason[error.reason]}`;
    return `grpc ${error.code}${reason}: ${error.message}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
