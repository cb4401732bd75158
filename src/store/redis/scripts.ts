import type { RedisLike } from "./connect.js";
import { luaScript } from "./lua-script.js";

/**
 * The Lua scripts behind every read-modify-write. Redis runs a script atomically, so
 * "check then write" cannot interleave with another replica's call. Each script only
 * touches the KEYS it declares, and multi-key scripts get keys sharing one hash tag
 * (see keys.ts), as Redis Cluster requires.
 *
 * Scripts answer with strings, integers and arrays only: under RESP3 a Lua `false`
 * would come back as a boolean, which ioredis maps differently per reply mode.
 */

/**
 * KEYS[1] the one-time record; ARGV[1] the used-marker (never valid JSON, so it cannot
 * be mistaken for a value). Replaces the value with the marker, keeping the TTL, so a
 * replay within the TTL reads "already_used" rather than "not_found".
 */
const CONSUME_ONCE = `
local value = redis.call('GET', KEYS[1])
if not value then return {'not_found'} end
if value == ARGV[1] then return {'already_used'} end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return {'ok', value}
`;

/**
 * KEYS[1] agent, KEYS[2] public-key index, KEYS[3] DID sorted set;
 * ARGV[1] agent JSON, ARGV[2] DID. Returns 1 when created, 0 when the DID or the public
 * key was ever registered (agents are never deleted, so neither is ever reused).
 */
const CREATE_AGENT = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 0, ARGV[2])
return 1
`;

/**
 * KEYS[1] agent, KEYS[2] public-key index entry of the next key; ARGV[1] expected
 * revision, ARGV[2] next agent JSON, ARGV[3] next publicKeyHex, ARGV[4] DID. Returns 1
 * when written, 0 when the agent is missing or its revision moved on, -1 when the key
 * would change without the old one in `retiredKeys` (the index would go stale), -2 when a
 * rotation's new key was ever registered. A rotation reserves the new key in the index in
 * the same step; the old key's entry stays (reserved forever).
 */
const UPDATE_AGENT = `
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local current = cjson.decode(stored)
if current.revision ~= tonumber(ARGV[1]) then return 0 end
if current.publicKeyHex ~= ARGV[3] then
  local retired = false
  local keys = cjson.decode(ARGV[2]).retiredKeys
  if type(keys) == 'table' then
    for _, key in ipairs(keys) do
      if key.publicKeyHex == current.publicKeyHex then retired = true end
    end
  end
  if not retired then return -1 end
  if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
  redis.call('SET', KEYS[2], ARGV[4])
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/**
 * KEYS[1] the revocation; ARGV[1] TTL in ms, "0" = for good. Sets the mark unless it
 * already outlives the new TTL: revoking again must never shorten a revocation. Returns 1
 * when written.
 */
const REVOKE = `
local remaining = redis.call('PTTL', KEYS[1])
if remaining == -1 then return 0 end
if ARGV[1] == '0' then
  redis.call('SET', KEYS[1], '1')
  return 1
end
if remaining >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
`;

/**
 * KEYS[1] an agent's issued-until watermark; ARGV[1] the watermark (Unix ms, decimal),
 * ARGV[2] TTL in ms. Keeps the higher watermark and the longer life.
 */
const REVOKE_ISSUED_UNTIL = `
local stored = redis.call('GET', KEYS[1])
local value = ARGV[1]
if stored and tonumber(stored) >= tonumber(ARGV[1]) then value = stored end
local ttl = tonumber(ARGV[2])
local remaining = redis.call('PTTL', KEYS[1])
if remaining > ttl then ttl = remaining end
redis.call('SET', KEYS[1], value, 'PX', ttl)
return 1
`;

/**
 * KEYS[1] operator; ARGV[1] the status. "revoked" is final. Returns the stored operator
 * JSON, or "" when there is none.
 */
const SET_OPERATOR_STATUS = `
local stored = redis.call('GET', KEYS[1])
if not stored then return '' end
local operator = cjson.decode(stored)
if operator.status == 'revoked' or operator.status == ARGV[1] then return stored end
operator.status = ARGV[1]
local next = cjson.encode(operator)
redis.call('SET', KEYS[1], next)
return next
`;

/**
 * KEYS[1] operator; ARGV[1] the patch JSON (only the fields it sets: operatorPatchFields).
 * Writes those fields over the stored ones; status and the rest are untouched. Returns the
 * stored operator JSON, or "" when there is none. (cjson re-encodes numbers with 14
 * significant digits: exact for Unix ms.)
 */
const PATCH_OPERATOR = `
local stored = redis.call('GET', KEYS[1])
if not stored then return '' end
local operator = cjson.decode(stored)
for field, value in pairs(cjson.decode(ARGV[1])) do operator[field] = value end
local next = cjson.encode(operator)
redis.call('SET', KEYS[1], next)
return next
`;

/**
 * KEYS[1] grant, KEYS[2] the agent's pending set (id scored by expiresAt), KEYS[3..5] the
 * list indexes (all, domain, agent); ARGV[1] grant JSON, ARGV[2] id, ARGV[3] expiresAt,
 * ARGV[4] list key, ARGV[5] max pending, ARGV[6] now (Unix ms, the caller's clock).
 * Drops lapsed ids from the pending set, then stores the grant only while fewer than the
 * maximum remain. Returns 1 when created, 0 at the pending limit, -1 when the id exists.
 */
const CREATE_GRANT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
for i = 3, 5 do redis.call('ZADD', KEYS[i], 0, ARGV[4]) end
return 1
`;

/**
 * KEYS[1] grant, KEYS[2] the agent's pending set; ARGV[1] expected revision, ARGV[2] next
 * grant JSON. Compare-and-set on the revision that keeps the pending set in step with the
 * state. Returns 1 when written, 0 when the grant is missing or its revision moved on, -1
 * when an indexed field (agentDid, operatorDomain, createdAt) would change.
 */
const UPDATE_GRANT = `
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local current = cjson.decode(stored)
if current.revision ~= tonumber(ARGV[1]) then return 0 end
local next = cjson.decode(ARGV[2])
if next.agentDid ~= current.agentDid or next.operatorDomain ~= current.operatorDomain
  or next.createdAt ~= current.createdAt then
  return -1
end
redis.call('SET', KEYS[1], ARGV[2])
if next.state == 'pending' then
  redis.call('ZADD', KEYS[2], next.expiresAt, next.id)
else
  redis.call('ZREM', KEYS[2], next.id)
end
return 1
`;

/**
 * KEYS[1] an agent's denials hash; ARGV[1] now, ARGV[2] base, ARGV[3] max (ms). Counts one
 * more denial and stores, and returns, now + min(max, base * 2^(denials - 1)).
 */
const RECORD_DENIAL = `
local denials = redis.call('HINCRBY', KEYS[1], 'denials', 1)
local backoff = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ (denials - 1))
local ends = tonumber(ARGV[1]) + backoff
redis.call('HSET', KEYS[1], 'until', string.format('%d', ends))
return ends
`;

/**
 * KEYS[1] approver hash, KEYS[2] credential index hash, KEYS[3] the domain's approver set;
 * ARGV[1] approver JSON, ARGV[2] id, ARGV[3] createdAt, then a (credential id, counter)
 * pair per passkey. Returns 1 when created, 0 when the id or any credential id exists.
 */
const CREATE_APPROVER = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 4, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then return 0 end
end
redis.call('HSET', KEYS[1], 'record', ARGV[1])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[2])
  redis.call('HSET', KEYS[1], 'counter:' .. ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return 1
`;

/**
 * KEYS[1] approver hash, KEYS[2] the domain's approver set; ARGV[1] id. Deletes the approver
 * and its set entry, leaving its credential index entries so its passkeys stay reserved.
 * Returns 1 when removed, 0 when there was no such approver.
 */
const REMOVE_APPROVER = `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS[1] approver hash; ARGV[1] credential id, ARGV[2] expected counter, ARGV[3] next.
 * Compare-and-set of one passkey's counter field. Returns 1 when written, else 0.
 */
const UPDATE_COUNTER = `
local field = 'counter:' .. ARGV[1]
local stored = redis.call('HGET', KEYS[1], field)
if not stored or tonumber(stored) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], field, ARGV[3])
return 1
`;

/**
 * KEYS[1] audit list, KEYS[2] audit head; ARGV[1] the head the batch extends (`<seq>:<hash>`,
 * "" for the first entry), ARGV[2] the new head (the batch's last entry), ARGV[3..] the
 * batch's entries as JSON, in chain order. Compare-and-append: appends them all and moves
 * the head only when the stored head is ARGV[1]. Returns {1} when appended, {0, head} when
 * another writer extended the chain first: the head it found ("" for none), on which the
 * writer re-hashes, re-signs and retries without reading it again. Redis has no SHA-256 in Lua, so the hashes are computed by the writer; the
 * script only guarantees that no two batches extend the same head.
 */
const AUDIT_APPEND = `
local head = redis.call('GET', KEYS[2]) or ''
if head ~= ARGV[1] then return {0, head} end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
redis.call('SET', KEYS[2], ARGV[2])
return {1}
`;

// The base's sequence (0 when nothing was pruned), shared by AUDIT_READ and AUDIT_PRUNE.
const AUDIT_BASE_SEQ = `
local function baseSeq(key)
  local base = redis.call('GET', key)
  if not base then return 0 end
  return tonumber(string.match(base, '^(%d+):'))
end
`;

/** The live entries with a sequence after ARGV[1], at most ARGV[2], and the base's sequence. */
const AUDIT_READ = `${AUDIT_BASE_SEQ}
local base = baseSeq(KEYS[2])
local start = math.max(tonumber(ARGV[1]) - base, 0)
return {base + start, redis.call('LRANGE', KEYS[1], start, start + tonumber(ARGV[2]) - 1)}
`;

/**
 * Compare-and-prune: only if the live entry at sequence ARGV[1] has hash ARGV[2] are it and
 * every entry before it trimmed off, and it becomes the base (the head is untouched).
 */
const AUDIT_PRUNE = `${AUDIT_BASE_SEQ}
local base = baseSeq(KEYS[2])
local seq = tonumber(ARGV[1])
if seq <= base then return 0 end
local json = redis.call('LINDEX', KEYS[1], seq - base - 1)
if not json then return 0 end
local ok, entry = pcall(cjson.decode, json)
if not ok or type(entry) ~= 'table' or entry.seq ~= seq or entry.hash ~= ARGV[2] then return 0 end
redis.call('LTRIM', KEYS[1], seq - base, -1)
redis.call('SET', KEYS[2], ARGV[1] .. ':' .. ARGV[2])
return 1
`;

/** The scripts as typed client methods (ioredis runs them with EVALSHA). */
export interface GatehouseScripts {
  ghConsumeOnce(
    key: string,
    usedMarker: string,
  ): Promise<["ok", string] | ["not_found"] | ["already_used"]>;
  ghCreateAgent(
    agentKey: string,
    publicKeyKey: string,
    agentIndexKey: string,
    agentJson: string,
    did: string,
  ): Promise<0 | 1>;
  ghUpdateAgent(
    agentKey: string,
    publicKeyKey: string,
    expectedRevision: number,
    nextJson: string,
    publicKeyHex: string,
    did: string,
  ): Promise<-2 | -1 | 0 | 1>;
  ghRevoke(key: string, ttlMs: number): Promise<0 | 1>;
  ghRevokeIssuedUntil(key: string, atMs: string, ttlMs: number): Promise<1>;
  ghSetOperatorStatus(operatorKey: string, status: string): Promise<string>;
  ghPatchOperator(operatorKey: string, patchJson: string): Promise<string>;
  ghCreateGrant(
    grantKey: string,
    pendingKey: string,
    indexKey: string,
    domainIndexKey: string,
    agentIndexKey: string,
    grantJson: string,
    id: string,
    expiresAt: number,
    listKey: string,
    maxPending: number,
    nowMs: number,
  ): Promise<-1 | 0 | 1>;
  ghUpdateGrant(
    grantKey: string,
    pendingKey: string,
    expectedRevision: number,
    nextJson: string,
  ): Promise<-1 | 0 | 1>;
  ghRecordDenial(denialsKey: string, nowMs: number, baseMs: number, maxMs: number): Promise<number>;
  ghCreateApprover(
    approverKey: string,
    credentialsKey: string,
    domainKey: string,
    approverJson: string,
    id: string,
    createdAt: number,
    ...credentialCounters: (string | number)[]
  ): Promise<0 | 1>;
  ghRemoveApprover(approverKey: string, domainKey: string, id: string): Promise<0 | 1>;
  ghUpdateCounter(
    approverKey: string,
    credentialId: string,
    expected: number,
    next: number,
  ): Promise<0 | 1>;
  ghAuditAppend(
    logKey: string,
    headKey: string,
    expectedHead: string,
    nextHead: string,
    ...entriesJson: string[]
  ): Promise<[1] | [0, string]>;
  ghAuditRead(
    logKey: string,
    baseKey: string,
    offset: number,
    limit: number,
  ): Promise<[number, string[]]>;
  ghAuditPrune(logKey: string, baseKey: string, seq: number, hash: string): Promise<0 | 1>;
}

const DEFINITIONS: Record<keyof GatehouseScripts, { numberOfKeys: number; lua: string }> = {
  ghConsumeOnce: { numberOfKeys: 1, lua: CONSUME_ONCE },
  ghCreateAgent: { numberOfKeys: 3, lua: CREATE_AGENT },
  ghUpdateAgent: { numberOfKeys: 2, lua: UPDATE_AGENT },
  ghRevoke: { numberOfKeys: 1, lua: REVOKE },
  ghRevokeIssuedUntil: { numberOfKeys: 1, lua: REVOKE_ISSUED_UNTIL },
  ghSetOperatorStatus: { numberOfKeys: 1, lua: SET_OPERATOR_STATUS },
  ghPatchOperator: { numberOfKeys: 1, lua: PATCH_OPERATOR },
  ghCreateGrant: { numberOfKeys: 5, lua: CREATE_GRANT },
  ghUpdateGrant: { numberOfKeys: 2, lua: UPDATE_GRANT },
  ghRecordDenial: { numberOfKeys: 1, lua: RECORD_DENIAL },
  ghCreateApprover: { numberOfKeys: 3, lua: CREATE_APPROVER },
  ghRemoveApprover: { numberOfKeys: 2, lua: REMOVE_APPROVER },
  ghUpdateCounter: { numberOfKeys: 1, lua: UPDATE_COUNTER },
  ghAuditAppend: { numberOfKeys: 2, lua: AUDIT_APPEND },
  ghAuditRead: { numberOfKeys: 2, lua: AUDIT_READ },
  ghAuditPrune: { numberOfKeys: 2, lua: AUDIT_PRUNE },
};

/** The scripts on the connection, typed (lua-script.ts: EVALSHA, EVAL when not loaded). */
export function defineScripts(redis: RedisLike): GatehouseScripts {
  const entries = Object.entries(DEFINITIONS).map(([name, { numberOfKeys, lua }]) => {
    const script = luaScript(redis, lua);
    return [
      name,
      (...keysThenArgs: (string | number)[]) => script.run(numberOfKeys, ...keysThenArgs),
    ];
  });
  // Each method's arguments and reply are the script's, as the interface declares them.
  return Object.fromEntries(entries) as GatehouseScripts;
}
