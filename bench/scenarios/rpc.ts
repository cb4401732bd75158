/** One RPC run: a warm-up, then a measured run with the server's CPU read around it. */
import type * as grpc from "@grpc/grpc-js";
import { type LoadResult, runLoad, type Target } from "../load.js";
import { type Summary, summarize } from "../report.js";
import type { Settings } from "../settings.js";
import type { ServerProcess } from "../spawn-server.js";

export interface RpcContext {
  readonly settings: Settings;
  readonly channels: readonly grpc.Client[];
  readonly server: ServerProcess;
}

export type Phase = "warmup" | "measured";

/**
 * `prepare` runs right before each phase (the DPoP run generates its proofs there, so they
 * are fresh); it gets the warm-up's result before the measured phase.
 */
export async function measureRpc(
  target: Target,
  context: RpcContext,
  prepare?: (phase: Phase, warmup?: LoadResult) => void,
): Promise<Summary> {
  const { settings, channels, server } = context;
  const base = { channels, concurrency: settings.concurrency };
  prepare?.("warmup");
  const warmup = await runLoad(target, { ...base, durationMs: settings.warmupSeconds * 1000 });
  if (warmup.errors > 0) {
    console.error(`warning: ${warmup.errors} errors during ${target.name} warm-up`);
  }
  prepare?.("measured", warmup);
  const before = await server.usage();
  const result = await runLoad(target, { ...base, durationMs: settings.seconds * 1000 });
  return summarize(result, settings.concurrency, before, await server.usage());
}
