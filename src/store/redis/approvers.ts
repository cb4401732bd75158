import { assertNonNegativeInteger } from "../common.js";
import type { ApproverRecord, ApproverStore } from "../ports.js";
import type { RedisLike } from "./connect.js";
import type { RedisKeys } from "./keys.js";
import type { GatehouseScripts } from "./scripts.js";

/**
 * Approvers on Redis, every key under the `{approvers}` hash tag. An approver is a hash:
 * its JSON as created, plus one counter field per passkey that UPDATE_COUNTER compares and
 * sets (Lua's cjson would turn an empty `transports` array into an object if the script
 * re-encoded the record). Reads put the current counters into the record.
 */
export function createRedisApproverStore(
  redis: RedisLike,
  scripts: GatehouseScripts,
  keys: RedisKeys,
): ApproverStore {
  const read = async (id: string) => parseApprover(await redis.hgetall(keys.approver(id)));

  return {
    async create(approver) {
      const counters = approver.passkeys.flatMap((p) => [p.credentialId, p.counter]);
      const created = await scripts.ghCreateApprover(
        keys.approver(approver.id),
        keys.approverCredentials,
        keys.approversByDomain(approver.operatorDomain),
        JSON.stringify(approver),
        approver.id,
        approver.createdAt,
        ...counters,
      );
      return created === 1 ? "created" : "exists";
    },

    get: read,

    async findByCredential(credentialId) {
      // A removed approver's entries stay (its passkeys are reserved); its record is gone.
      const id = await redis.hget(keys.approverCredentials, credentialId);
      return id === null ? undefined : read(id);
    },

    async listByDomain(operatorDomain) {
      // Scored by createdAt, ties by id: the order compareApprovers gives.
      const ids = await redis.zrange(keys.approversByDomain(operatorDomain), 0, "-1");
      // Approvers are written and removed with their set entry atomically, but one may be
      // removed between the range and the reads.
      const approvers = await Promise.all(ids.map(read));
      return approvers.filter((approver) => approver !== undefined);
    },

    async remove(id) {
      // The domain names the set key; it never changes, and the script re-checks existence.
      const approver = await read(id);
      if (approver === undefined) return false;
      const key = keys.approversByDomain(approver.operatorDomain);
      return (await scripts.ghRemoveApprover(keys.approver(id), key, id)) === 1;
    },

    async updateCounter(approverId, credentialId, expected, next) {
      assertNonNegativeInteger("expected", expected);
      assertNonNegativeInteger("next", next);
      const key = keys.approver(approverId);
      return (await scripts.ghUpdateCounter(key, credentialId, expected, next)) === 1;
    },
  };
}

function parseApprover(hash: Record<string, string>): ApproverRecord | undefined {
  if (hash.record === undefined) return undefined;
  const approver = JSON.parse(hash.record) as ApproverRecord;
  const passkeys = approver.passkeys.map((passkey) => ({
    ...passkey,
    counter: Number(hash[`counter:${passkey.credentialId}`] ?? passkey.counter),
  }));
  return { ...approver, passkeys };
}
