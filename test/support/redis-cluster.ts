import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { type RedisServer, startRedisServer } from "./redis-server.js";

export interface RedisCluster {
  /** One seed node's URL; a cluster client learns the others from it. */
  readonly url: string;
  readonly nodes: readonly RedisServer[];
  stop(): Promise<void>;
}

/** Override with REDIS_CLI_BIN when redis-cli is not on PATH. */
const CLI = process.env.REDIS_CLI_BIN ?? "redis-cli";
const MASTERS = 3;
const READY_TIMEOUT_MS = 15_000;

/**
 * Starts a real Redis Cluster of three masters (no replicas) on free loopback ports, each
 * node a throwaway redis-server in its own temp directory, the slots assigned by
 * `redis-cli --cluster create`. Resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < MASTERS; i++) nodes.push(await startRedisServer({ cluster: "member" }));
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await promisify(execFile)(CLI, [
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    await Promise.all(nodes.map((node) => clusterReady(node.port)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: nodes[0]?.url ?? "", nodes, stop };
}

/** Polls CLUSTER INFO until the node sees every slot served (`cluster_state:ok`). */
async function clusterReady(port: number): Promise<void> {
  const redis = new Redis({ host: "127.0.0.1", port, lazyConnect: true });
  try {
    await redis.connect();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await redis.cluster("INFO")).includes("cluster_state:ok")) {
      if (Date.now() > deadline) throw new Error(`cluster node ${port} never reached state ok`);
      await sleep(50);
    }
  } finally {
    redis.disconnect();
  }
}
