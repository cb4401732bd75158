import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { type RedisServer, startRedisServer } from "./redis-server.js";

export interface RedisCluster {
  /** One seed node's URL; a cluster client learns the others from it. */
  readonly url: string;
  readonly nodes: readonly RedisServer[];
  /**
   * A manual failover (CLUSTER FAILOVER, coordinated: the replica first catches up with its
   * master's offset) of one master to its replica; resolves once the replica is master.
   * Needs `replicas`.
   */
  failover(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** One replica per master (six nodes) so that a master can fail over. */
  readonly replicas?: boolean;
}

/** Override with REDIS_CLI_BIN when redis-cli is not on PATH. */
const CLI = process.env.REDIS_CLI_BIN ?? "redis-cli";
const MASTERS = 3;
const READY_TIMEOUT_MS = 15_000;
/** Redis's own bound on a manual failover (CLUSTER_MF_TIMEOUT, 5 s), with a margin. */
const MANUAL_FAILOVER_TIMEOUT_MS = 6_000;
/** Several manual failovers, each asked again after Redis gave the last one up. */
const FAILOVER_TIMEOUT_MS = 30_000;

/**
 * Starts a real Redis Cluster of three masters (with `replicas`, one replica each) on free
 * loopback ports, each node a throwaway redis-server in its own temp directory, the slots
 * assigned by `redis-cli --cluster create`. Resolves once every node reports
 * `cluster_state:ok` and every replica is in sync with its master.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const replicas = options.replicas ? 1 : 0;
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < MASTERS * (1 + replicas); i++)
      nodes.push(await startRedisServer({ cluster: "member" }));
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await promisify(execFile)(CLI, [
      "--cluster",
      "create",
      ...addresses,
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
    await Promise.all(nodes.map((node) => clusterReady(node.port)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: nodes[0]?.url ?? "", nodes, failover: () => failover(nodes), stop };
}

/**
 * Promotes the first replica found; waits until it reports itself master, asking again each
 * time Redis gives a manual failover up.
 */
async function failover(nodes: readonly RedisServer[]): Promise<void> {
  for (const node of nodes) {
    const redis = new Redis(node.url);
    try {
      const [role] = (await redis.call("ROLE")) as [string];
      if (role !== "slave") continue;
      const deadline = Date.now() + FAILOVER_TIMEOUT_MS;
      let asked = 0;
      while (((await redis.call("ROLE")) as [string])[0] !== "master") {
        if (Date.now() > deadline) throw new Error(`replica ${node.port} never became master`);
        // Redis aborts a manual failover not done within its timeout (the replica did not
        // catch up with a busy master, or the election did not get its votes): ask again.
        if (Date.now() - asked > MANUAL_FAILOVER_TIMEOUT_MS) {
          await redis.cluster("FAILOVER");
          asked = Date.now();
        }
        await sleep(20);
      }
      return;
    } finally {
      redis.disconnect();
    }
  }
  throw new Error("no replica to fail over to: start the cluster with replicas");
}

/**
 * Polls CLUSTER INFO until the node sees every slot served (`cluster_state:ok`) and, on a
 * replica, until its link to the master is up.
 */
async function clusterReady(port: number): Promise<void> {
  const redis = new Redis({ host: "127.0.0.1", port, lazyConnect: true });
  try {
    await redis.connect();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const ready = async () =>
      (await redis.cluster("INFO")).includes("cluster_state:ok") &&
      !/master_link_status:down/.test(await redis.info("replication"));
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`cluster node ${port} never became ready`);
      await sleep(50);
    }
  } finally {
    redis.disconnect();
  }
}
