import {
  assertNextRevision,
  assertPositiveInteger,
  operatorPatchFields,
  PublicKeyInUseError,
  publicKeyChangedError,
} from "../common.js";
import type {
  AgentListQuery,
  AgentPage,
  AgentRecord,
  OperatorRecord,
  RegistryStore,
} from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";
import type { GatehouseScripts } from "./scripts.js";

/** Index entries fetched per round trip when a filter may reject many of them. */
export const FILTERED_BATCH = 200;
/**
 * A filtered listing stops after examining this many entries (or `limit`, if larger) and
 * returns a short page with a cursor, so one request never walks a whole index.
 */
export const MAX_EXAMINED = 1_000;

/** Operators and agents on Redis; every key shares the `{registry}` hash tag. */
export function createRedisRegistry(
  redis: RedisLike,
  scripts: GatehouseScripts,
  keys: RedisKeys,
): RegistryStore {
  return {
    async createOperator(operator) {
      const stored = await redis.set(
        keys.operator(operator.domain),
        JSON.stringify(operator),
        "NX",
      );
      return stored === null ? "exists" : "created";
    },

    async getOperator(domain) {
      const json = await redis.get(keys.operator(domain));
      return json === null ? undefined : (JSON.parse(json) as OperatorRecord);
    },

    async setOperatorStatus(domain, status) {
      const json = await scripts.ghSetOperatorStatus(keys.operator(domain), status);
      return json === "" ? undefined : (JSON.parse(json) as OperatorRecord);
    },

    async patchOperator(domain, patch) {
      const patchJson = JSON.stringify(operatorPatchFields(patch));
      const json = await scripts.ghPatchOperator(keys.operator(domain), patchJson);
      return json === "" ? undefined : (JSON.parse(json) as OperatorRecord);
    },

    async createAgent(agent) {
      const created = await scripts.ghCreateAgent(
        keys.agent(agent.did),
        keys.publicKey(agent.publicKeyHex),
        keys.agentIndex,
        JSON.stringify(agent),
        agent.did,
      );
      return created === 1 ? "created" : "exists";
    },

    async getAgent(did) {
      const json = await redis.get(keys.agent(did));
      return json === null ? undefined : (JSON.parse(json) as AgentRecord);
    },

    async updateAgent(next, expectedRevision) {
      assertNextRevision(next, expectedRevision);
      const outcome = await scripts.ghUpdateAgent(
        keys.agent(next.did),
        keys.publicKey(next.publicKeyHex),
        expectedRevision,
        JSON.stringify(next),
        next.publicKeyHex,
        next.did,
      );
      if (outcome === -1) throw publicKeyChangedError();
      if (outcome === -2) throw new PublicKeyInUseError();
      return outcome === 1;
    },

    listAgents: (query) => listAgents(redis, keys, query),
  };
}

/**
 * Walks the DID sorted set from the cursor in batches (ZRANGEBYLEX, then one MGET per
 * batch), keeping the agents that pass the filters. Each batch asks for one DID more
 * than it examines, to learn whether any DID follows without another round trip.
 */
async function listAgents(
  redis: RedisLike,
  keys: RedisKeys,
  query: AgentListQuery,
): Promise<AgentPage> {
  assertPositiveInteger("limit", query.limit);
  const filtered = query.operatorDomain !== undefined || query.status !== undefined;
  const batchSize = filtered ? FILTERED_BATCH : Math.min(query.limit, FILTERED_BATCH);
  const maxExamined = Math.max(query.limit, MAX_EXAMINED);
  const agents: AgentRecord[] = [];
  let cursor = query.afterDid;
  let examined = 0;

  for (;;) {
    const from = cursor === undefined ? "-" : `(${cursor}`;
    const dids = await redis.zrangebylex(keys.agentIndex, from, "+", "LIMIT", 0, batchSize + 1);
    const batch = dids.slice(0, batchSize);
    const moreAfterBatch = dids.length > batchSize;
    if (batch.length === 0) return { agents };
    const records = await redis.mget(batch.map((did) => keys.agent(did)));

    for (const [i, did] of batch.entries()) {
      examined++;
      // Agents are written with their index entry atomically and never deleted.
      const agent = JSON.parse(records[i] as string) as AgentRecord;
      if (!matches(agent, query)) continue;
      agents.push(agent);
      if (agents.length === query.limit) {
        const moreFollow = i < batch.length - 1 || moreAfterBatch;
        return moreFollow ? { agents, nextAfterDid: did } : { agents };
      }
    }
    if (!moreAfterBatch) return { agents };
    const lastExamined = batch[batch.length - 1] as string;
    if (examined >= maxExamined) return { agents, nextAfterDid: lastExamined };
    cursor = lastExamined;
  }
}

function matches(agent: AgentRecord, query: AgentListQuery): boolean {
  return (
    (query.operatorDomain === undefined || agent.operatorDomain === query.operatorDomain) &&
    (query.status === undefined || agent.status === query.status)
  );
}
