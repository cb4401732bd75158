/**
 * The benchmarked HTTP sidecar, in a process of its own (`fork` with `--import tsx`), in
 * front of the bench server. Arguments: the data dir (its dev PKI: the sidecar's server
 * certificate, and its `proxy` certificate issued in memory) and JSON `SidecarOptions`. One
 * forward-auth route: any host, any path → `audience`, `scope`. With `workers` > 1 this
 * process supervises that many sidecar processes on one port, as `gatehouse sidecar
 * --workers` does, with the same code (src/app/workers.ts). IPC (bench/worker-group.ts):
 * → { type: "ready", port }; ← { type: "usage" } → { type: "usage", cpuMicros, elu }
 * (cumulative; with workers, summed over them and this process); ← { type: "stop" } → exits.
 * With BENCH_SERVER_PROFILE each sidecar process profiles its CPU as the bench servers do.
 */
import cluster from "node:cluster";
import { loadConfig } from "../src/config/index.js";
import { createLogger } from "../src/observability/logger.js";
import { type SidecarListening, sidecarListening, startSidecar } from "../src/sidecar/index.js";
import { benchProxy } from "./config.js";
import { BENCH_ISSUER, BENCH_TRUST_DOMAIN } from "./protocol.js";
import { serveForBench, superviseForBench } from "./worker-group.js";

export interface SidecarOptions {
  readonly upstream: string;
  readonly hmacSecret: string;
  readonly audience: string;
  readonly scope: string;
  /** Set: an in-process verifier replica on this Redis decides (`sidecar.verifier = "replica"`). */
  readonly replicaRedisUrl?: string;
  /** Sidecar processes sharing the port (`sidecar.workers`); default 1. */
  readonly workers?: number;
}

const [dataDir, raw] = process.argv.slice(2);
if (!dataDir || !raw || !process.send)
  throw new Error("usage: fork bench/sidecar.ts <dataDir> <options>");
const options = JSON.parse(raw) as SidecarOptions;
const workers = options.workers ?? 1;
const config = loadConfig({
  mode: "dev",
  env: {},
  overrides: {
    issuer: BENCH_ISSUER,
    trustDomain: BENCH_TRUST_DOMAIN,
    dataDir,
    log: { level: "silent" },
    proxy: benchProxy(options.hmacSecret),
    ...(options.replicaRedisUrl && { store: { kind: "redis", url: options.replicaRedisUrl } }),
    sidecar: {
      verifier: options.replicaRedisUrl ? "replica" : "upstream",
      host: "127.0.0.1",
      port: 0,
      upstream: options.upstream,
      workers,
      routes: [
        {
          host: "*",
          path_prefix: "/",
          resource: "https://bench.test/",
          audience: options.audience,
          scopes: [options.scope],
        },
      ],
    } as never,
  },
});
const ready = ({ port }: SidecarListening) => ({ type: "ready", port });

if (workers > 1 && cluster.isPrimary) {
  await superviseForBench(
    {
      count: workers,
      graceMs: config.shutdownGraceMs,
      name: "sidecar worker",
      listening: sidecarListening,
    },
    ready,
  );
} else {
  const sidecar = await startSidecar({ config, logger: createLogger("silent") });
  await serveForBench({ listening: sidecarListening(sidecar), stop: () => sidecar.stop() }, ready);
}
