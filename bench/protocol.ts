import { performance } from "node:perf_hooks";
import type { FloorOptions } from "./login-floor.js";

/** What bench/server.ts and the load generator share: names and the IPC messages. */
export const BENCH_ISSUER = "https://gatehouse.bench";
export const BENCH_TRUST_DOMAIN = "gatehouse.bench";
/** The bench server's token TTL: the one login must outlive warm-ups and measured runs. */
export const BENCH_TOKEN_TTL_SECONDS = 3600;

export interface EventLoopUtilization {
  readonly idle: number;
  readonly active: number;
  readonly utilization: number;
}

export type ServerMessage =
  | { readonly type: "ready"; readonly grpcPort: number; readonly connectPort: number }
  | { readonly type: "usage"; readonly cpuMicros: number; readonly elu: EventLoopUtilization };

/** What the parent asks of a bench server (bench/server.ts's second argument, as JSON). */
export interface ServerOptions {
  /** Use this Redis as the store (replicas share it) instead of the embedded one. */
  readonly redisUrl?: string;
  /** Server processes sharing the ports (src/app/workers.ts); more than 1 needs `redisUrl`. */
  readonly workers?: number;
  /** Trust a proxy on loopback with this HMAC secret (the HTTP sidecar, bench/sidecar.ts). */
  readonly proxyHmacSecret?: string;
  /** Serve the login floor (bench/login-floor.ts) for these agents instead of Gatehouse. */
  readonly floor?: FloorOptions;
}

/** This process's cumulative CPU and event-loop use: the answer to a `usage` message. */
export function processUsage(): Extract<ServerMessage, { type: "usage" }> {
  const cpu = process.cpuUsage();
  const { idle, active, utilization } = performance.eventLoopUtilization();
  return { type: "usage", cpuMicros: cpu.user + cpu.system, elu: { idle, active, utilization } };
}
