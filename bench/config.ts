import { type GatehouseConfig, loadConfig } from "../src/config/index.js";
import { MAX_RATE_LIMIT } from "../src/config/limits.js";
import { BENCH_ISSUER, BENCH_TOKEN_TTL_SECONDS, BENCH_TRUST_DOMAIN } from "./protocol.js";

/**
 * The benchmarked server's configuration (bench/server.ts, bench/in-process.ts): dev mode on
 * ephemeral loopback ports, silent, the embedded store or the given Redis (needed by workers).
 */
export function benchConfig(
  dataDir: string,
  redisUrl?: string,
  workers = 1,
  proxyHmacSecret?: string,
): GatehouseConfig {
  return loadConfig({
    mode: "dev",
    env: {},
    overrides: {
      issuer: BENCH_ISSUER,
      trustDomain: BENCH_TRUST_DOMAIN,
      dataDir,
      grpc: { host: "127.0.0.1", port: 0 },
      connect: { host: "127.0.0.1", port: 0 },
      approval: { enabled: true, host: "127.0.0.1", port: 0 },
      metrics: { host: "127.0.0.1", port: 0 },
      log: { level: "silent" },
      // The gate-pairs run: iterated hash at the N of the comparison with the Python gate
      // (1,000), hashcash easy enough that the client's search stays small beside the check.
      challenges: { iteratedHashIterations: 1_000, hashcashDifficultyBits: 8 },
      // The TTL does not change what Verify costs.
      tokens: { defaultTtlSeconds: BENCH_TOKEN_TTL_SECONDS },
      shutdownGraceMs: 2_000,
      workers,
      ...(redisUrl !== undefined && { store: { kind: "redis", url: redisUrl, cluster: false } }),
      ...(proxyHmacSecret !== undefined && { proxy: benchProxy(proxyHmacSecret) }),
      // The limiters still run (their cost is part of a login), but the highest limits keep
      // the login run's few agents, all from 127.0.0.1, from being refused.
      limits: {
        challengePerIdentity: MAX_RATE_LIMIT,
        challengePerAddress: MAX_RATE_LIMIT,
        submitPerIdentity: MAX_RATE_LIMIT,
        submitPerAddress: MAX_RATE_LIMIT,
      },
    },
  });
}

/** Gatehouse trusts the bench's HTTP sidecar (bench/sidecar.ts) on loopback with `secret`. */
export function benchProxy(hmacSecret: string) {
  return { enabled: true, trustedPeers: ["127.0.0.1"], hmacSecret, maxAgeSeconds: 30 } as const;
}
