/** One RPC run: a warm-up, then a measured run with the server's CPU read around it. */
import type * as grpc from "@grpc/grpc-js";
import { type GoLoadgen, generatorFor, runGoLoad, type TlsFiles } from "../go-load.js";
import { type LoadResult, runLoad, type Target } from "../load.js";
import { type Summary, summarize } from "../report.js";
import type { Settings } from "../settings.js";
import type { ServerProcess } from "../spawn-server.js";

export interface RpcContext {
  readonly settings: Settings;
  /** The grpc-js channels (the Node generator). */
  readonly channels: readonly grpc.Client[];
  readonly server: ServerProcess;
  /** The Go generator, when in use: it dials `address` itself with the same identity. */
  readonly go?: {
    readonly loadgen: GoLoadgen;
    readonly address: string;
    readonly tls: TlsFiles;
    readonly workDir: string;
  };
}

export type Phase = "warmup" | "measured";

/**
 * `prepare` runs right before each phase (the DPoP run generates its proofs there, so they
 * are fresh); it gets the warm-up's result before the measured phase. The run is on the Go
 * generator when the context has one and the target has a check for it, else on grpc-js.
 */
export async function measureRpc(
  target: Target,
  context: RpcContext,
  prepare?: (phase: Phase, warmup?: LoadResult) => void,
): Promise<Summary> {
  const { settings, channels, server, go } = context;
  if (go && generatorFor(target, go.loadgen) === "go") {
    let before: Awaited<ReturnType<ServerProcess["usage"]>> | undefined;
    const result = await runGoLoad(
      target,
      {
        go: go.loadgen,
        address: go.address,
        tls: go.tls,
        workDir: go.workDir,
        connections: settings.channels,
        concurrency: settings.concurrency,
        warmupSeconds: settings.warmupSeconds,
        seconds: settings.seconds,
      },
      {
        ...(prepare && { prepare }),
        beforeMeasured: async () => {
          before = await server.usage({ collectFirst: true });
        },
      },
    );
    if (!before) throw new Error("no server usage before the measured run");
    const summary = summarize(result, settings.concurrency, before, await server.usage());
    return result.exhausted ? { ...summary, requestsExhausted: true } : summary;
  }
  const base = { channels, concurrency: settings.concurrency };
  prepare?.("warmup");
  const warmup = await runLoad(target, { ...base, durationMs: settings.warmupSeconds * 1000 });
  if (warmup.errors > 0) {
    console.error(`warning: ${warmup.errors} errors during ${target.name} warm-up`);
  }
  prepare?.("measured", warmup);
  const before = await server.usage({ collectFirst: true });
  const result = await runLoad(target, { ...base, durationMs: settings.seconds * 1000 });
  return summarize(result, settings.concurrency, before, await server.usage());
}
