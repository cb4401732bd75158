/**
 * The benchmarked HTTP sidecar, in a process of its own (`fork` with `--import tsx`), in
 * front of the bench server. Arguments: the data dir (its dev PKI: the sidecar's server
 * certificate, and its `proxy` certificate issued in memory) and JSON `{ upstream,
 * hmacSecret, audience, scope, replicaRedisUrl? }`. One forward-auth route: any host, any path → `audience`,
 * `scope`. IPC: → { type: "ready", port }; ← { type: "usage" } → { type: "usage", cpuMicros,
 * elu } (cumulative); ← { type: "stop" } → exits. With BENCH_SERVER_PROFILE the sidecar
 * profiles its CPU as the bench servers do (bench/profile.ts: one profile per interval
 * between usage requests).
 */
import { loadConfig } from "../src/config/index.js";
import { createLogger } from "../src/observability/logger.js";
import { startSidecar } from "../src/sidecar/index.js";
import { benchProxy } from "./config.js";
import { startIntervalProfiler } from "./profile.js";
import { BENCH_ISSUER, BENCH_TRUST_DOMAIN, processUsage } from "./protocol.js";

export interface SidecarOptions {
  readonly upstream: string;
  readonly hmacSecret: string;
  readonly audience: string;
  readonly scope: string;
  /** Set: an in-process verifier replica on this Redis decides (`sidecar.verifier = "replica"`). */
  readonly replicaRedisUrl?: string;
}

const [dataDir, raw] = process.argv.slice(2);
if (!dataDir || !raw || !process.send)
  throw new Error("usage: fork bench/sidecar.ts <dataDir> <options>");
const options = JSON.parse(raw) as SidecarOptions;
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
const sidecar = await startSidecar({ config, logger: createLogger("silent") });
const profileDir = process.env.BENCH_SERVER_PROFILE;
const profiler = profileDir ? await startIntervalProfiler(profileDir) : undefined;
const stop = () =>
  void (profiler?.stop() ?? Promise.resolve())
    .then(() => sidecar.stop())
    .then(() => process.exit(0));
process.on("message", (message: { type?: string }) => {
  if (message.type === "stop") stop();
  if (message.type === "usage") {
    process.send?.(processUsage());
    void profiler?.cut();
  }
});
process.on("disconnect", stop);
process.send({ type: "ready", port: sidecar.port });
