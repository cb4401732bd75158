import { Cluster, Redis, type RedisOptions } from "ioredis";

/** A standalone (or Sentinel) connection, or a Redis Cluster client. */
export type RedisLike = Redis | Cluster;

export interface ConnectRedisOptions {
  /** Treat `url` as one seed node of a Redis Cluster. */
  readonly cluster?: boolean;
  /**
   * Receives connection errors (ioredis otherwise prints them to stderr). Errors carry
   * host and port, never the password.
   */
  readonly onError?: (error: Error) => void;
}

/**
 * Fail fast rather than queue: a request waiting on a lost or stalled Redis is refused
 * quickly (UNAVAILABLE, src/store/faults.ts), well inside any caller's deadline, instead of
 * being held for the ioredis defaults (20 reconnect attempts, no command timeout). Redis
 * answers in well under a millisecond; a command without a reply after COMMAND_TIMEOUT_MS
 * means the server is stalled or unreachable.
 */
export const COMMAND_TIMEOUT_MS = 1_000;
const FAIL_FAST = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  commandTimeout: COMMAND_TIMEOUT_MS,
} satisfies RedisOptions;

/**
 * Commands issued in the same tick (concurrent requests, parallel reads of one request) go
 * out in one write and their replies come back in one read: under load a login's 18
 * commands cost about one write instead of 18, on both sides. Order on the connection is
 * kept (the audit writer relies on it); a Cluster client batches per node. While a batch is
 * out, the next one waits for its replies: a little latency for much less CPU.
 */
const AUTO_PIPELINE = { enableAutoPipelining: true } as const;

/**
 * On a Cluster the scripts (lua-script.ts) go out one by one: a Cluster client retries an
 * auto-pipelined batch after a failover only when every refused command got the same MOVED
 * reply, and the scripts of one batch touch different slots. Auto-pipelined, their MOVED
 * replies reached the callers after a CLUSTER FAILOVER and logins failed with INTERNAL
 * (test/integration/redis-cluster.test.ts under load: 2 runs in 3; sent alone, 5 of 5 pass):
 * a script sent alone is redirected and the slot map refreshed.
 */
const CLUSTER_UNPIPELINED = ["evalsha", "eval"];

/**
 * Opens a connection from `redis://[user:password@]host:port[/db]` (or `rediss://` for
 * TLS). The caller owns it: close it with `quit()`.
 */
export function connectRedis(url: string, options: ConnectRedisOptions = {}): RedisLike {
  const client = options.cluster
    ? connectCluster(url)
    : new Redis(url, { ...FAIL_FAST, ...AUTO_PIPELINE });
  if (options.onError) client.on("error", options.onError);
  refuseWhileDisconnected(client);
  return client;
}

/**
 * Commands issued before the first connection wait for it (start-up, bounded by the
 * command timeout); once connected, a command issued while the connection is down is
 * refused at once instead of queueing for a reconnect. (A Cluster's per-node connections
 * keep their queue, bounded by the command timeout.)
 */
function refuseWhileDisconnected(client: RedisLike): void {
  client.once("ready", () => {
    client.options.enableOfflineQueue = false;
  });
}

/**
 * Cluster nodes learnt from CLUSTER SLOTS do not inherit a seed URL's credentials or
 * TLS, so they go into `redisOptions`, which applies to every node.
 */
function connectCluster(url: string): Cluster {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new Error("redis cluster url must start with redis:// or rediss://");
  }
  // URL keeps the brackets of an IPv6 literal; sockets want the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return new Cluster([{ host, port: Number(parsed.port || 6379) }], {
    ...AUTO_PIPELINE,
    autoPipeliningIgnoredCommands: CLUSTER_UNPIPELINED,
    redisOptions: {
      ...FAIL_FAST,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    },
  });
}
