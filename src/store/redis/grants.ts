import {
  assertDenialArgs,
  assertNewGrant,
  assertNextRevision,
  assertPositiveInteger,
  DuplicateIdError,
  decodeGrantCursor,
  encodeGrantCursor,
  grantIdOfListKey,
  grantIndexChangedError,
  grantListKey,
  matchesGrantQuery,
} from "../common.js";
import type { GrantListQuery, GrantPage, GrantRecord, GrantStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";
import { FILTERED_BATCH, MAX_EXAMINED } from "./registry.js";
import type { GatehouseScripts } from "./scripts.js";

/**
 * Capability grants on Redis. A grant, its agent's pending set and the list indexes share
 * the `{grants}` hash tag, so CREATE_GRANT and UPDATE_GRANT change them in one atomic step.
 * Denial back-offs are one hash per agent, on their own.
 */
export function createRedisGrantStore(
  redis: RedisLike,
  scripts: GatehouseScripts,
  keys: RedisKeys,
): GrantStore {
  return {
    async create(grant, maxPending, nowMs) {
      assertNewGrant(grant, maxPending, nowMs);
      const outcome = await scripts.ghCreateGrant(
        keys.grant(grant.id),
        keys.pendingGrants(grant.agentDid),
        keys.grantIndex,
        keys.grantIndexByDomain(grant.operatorDomain),
        keys.grantIndexByAgent(grant.agentDid),
        JSON.stringify(grant),
        grant.id,
        grant.expiresAt,
        grantListKey(grant),
        maxPending,
        nowMs,
      );
      if (outcome === -1) throw new DuplicateIdError("grant id");
      return outcome === 1 ? "created" : "pending_limit";
    },

    async get(id) {
      const json = await redis.get(keys.grant(id));
      return json === null ? undefined : (JSON.parse(json) as GrantRecord);
    },

    async update(next, expectedRevision) {
      assertNextRevision(next, expectedRevision);
      const outcome = await scripts.ghUpdateGrant(
        keys.grant(next.id),
        keys.pendingGrants(next.agentDid),
        expectedRevision,
        JSON.stringify(next),
      );
      if (outcome === -1) throw grantIndexChangedError();
      return outcome === 1;
    },

    list: (query) => listGrants(redis, keys, query),

    async recordDenial(agentDid, nowMs, baseMs, maxMs) {
      assertDenialArgs(nowMs, baseMs, maxMs);
      return Number(
        await scripts.ghRecordDenial(keys.grantDenials(agentDid), nowMs, baseMs, maxMs),
      );
    },

    async cooldownUntil(agentDid) {
      const until = await redis.hget(keys.grantDenials(agentDid), "until");
      return until === null ? undefined : Number(until);
    },

    async resetDenials(agentDid) {
      await redis.del(keys.grantDenials(agentDid));
    },
  };
}

/**
 * Walks the narrowest index the query allows (agent, else domain, else all) newest first
 * from the cursor, in batches (ZREVRANGEBYLEX, then one MGET per batch), keeping the grants
 * that pass every filter. Like listAgents, it asks for one entry more than it examines and
 * returns a short page with a cursor once it examined MAX_EXAMINED entries.
 */
async function listGrants(
  redis: RedisLike,
  keys: RedisKeys,
  query: GrantListQuery,
): Promise<GrantPage> {
  assertPositiveInteger("limit", query.limit);
  const { agentDid, operatorDomain } = query;
  const index =
    agentDid !== undefined
      ? keys.grantIndexByAgent(agentDid)
      : operatorDomain !== undefined
        ? keys.grantIndexByDomain(operatorDomain)
        : keys.grantIndex;
  // The index applies the filter it is keyed by; only the others can reject entries.
  const filtered =
    query.state !== undefined || (agentDid !== undefined && operatorDomain !== undefined);
  const batchSize = filtered ? FILTERED_BATCH : Math.min(query.limit, FILTERED_BATCH);
  const maxExamined = Math.max(query.limit, MAX_EXAMINED);
  const grants: GrantRecord[] = [];
  let from = query.cursor === undefined ? "+" : `(${decodeGrantCursor(query.cursor)}`;
  let examined = 0;

  for (;;) {
    const listKeys = await redis.zrevrangebylex(index, from, "-", "LIMIT", 0, batchSize + 1);
    const batch = listKeys.slice(0, batchSize);
    const moreAfterBatch = listKeys.length > batchSize;
    if (batch.length === 0) return { grants };
    const records = await redis.mget(batch.map((key) => keys.grant(grantIdOfListKey(key))));

    for (const [i, key] of batch.entries()) {
      examined++;
      // Grants are written with their index entries atomically and never deleted.
      const grant = JSON.parse(records[i] as string) as GrantRecord;
      if (!matchesGrantQuery(grant, query)) continue;
      grants.push(grant);
      if (grants.length === query.limit) {
        const moreFollow = i < batch.length - 1 || moreAfterBatch;
        return moreFollow ? { grants, nextCursor: encodeGrantCursor(key) } : { grants };
      }
    }
    if (!moreAfterBatch) return { grants };
    const lastExamined = batch[batch.length - 1] as string;
    if (examined >= maxExamined) return { grants, nextCursor: encodeGrantCursor(lastExamined) };
    from = `(${lastExamined}`;
  }
}
