import {
  assertDenialArgs,
  assertNewGrant,
  assertNextRevision,
  assertPositiveInteger,
  DuplicateIdError,
  decodeGrantCursor,
  denialCooldownUntil,
  encodeGrantCursor,
  grantIdOfListKey,
  grantIndexChangedError,
  grantListKey,
  matchesGrantQuery,
  sameGrantIndexFields,
  sortedIndexAfter,
} from "../common.js";
import type { GrantListQuery, GrantPage, GrantRecord, GrantStore } from "../ports.js";
import { isObject, type Persist } from "./snapshot.js";

/** An agent's consecutive denials and the back-off they earned. */
interface DenialRecord {
  readonly agentDid: string;
  readonly denials: number;
  /** Unix ms. */
  readonly until: number;
}

/** The grants file's content. */
export interface GrantsSnapshot {
  readonly version: 1;
  readonly grants: readonly GrantRecord[];
  readonly denials: readonly DenialRecord[];
}

export function parseGrantsSnapshot(data: unknown, source: string): GrantsSnapshot {
  const valid =
    isObject(data) &&
    data.version === 1 &&
    Array.isArray(data.grants) &&
    data.grants.every(
      (g) =>
        isObject(g) &&
        typeof g.id === "string" &&
        typeof g.agentDid === "string" &&
        typeof g.state === "string" &&
        typeof g.createdAt === "number" &&
        typeof g.expiresAt === "number" &&
        typeof g.revision === "number",
    ) &&
    Array.isArray(data.denials) &&
    data.denials.every(
      (d) =>
        isObject(d) &&
        typeof d.agentDid === "string" &&
        typeof d.denials === "number" &&
        typeof d.until === "number",
    );
  if (!valid) throw new Error(`${source} is not a Gatehouse grants file (version 1)`);
  return data as unknown as GrantsSnapshot;
}

/**
 * In-memory capability grants. Each write checks and mutates synchronously, then awaits
 * persistence, so the pending limit and the CAS hold exactly as on Redis.
 */
export class MemoryGrants implements GrantStore {
  readonly #grants = new Map<string, GrantRecord>();
  /** Every grant's list key (see grantListKey), ascending: listings walk it backwards. */
  readonly #listKeys: string[] = [];
  /** Per agent, the ids of its grants in state "pending" (expired ones included). */
  readonly #pending = new Map<string, Set<string>>();
  readonly #denials = new Map<string, DenialRecord>();
  readonly #persist: Persist;

  constructor(persist: Persist, initial?: GrantsSnapshot) {
    this.#persist = persist;
    this.restore(initial);
  }

  restore(snapshot: GrantsSnapshot | undefined): void {
    this.#grants.clear();
    this.#listKeys.length = 0;
    this.#pending.clear();
    this.#denials.clear();
    for (const grant of snapshot?.grants ?? []) this.#insert(grant);
    for (const denial of snapshot?.denials ?? []) this.#denials.set(denial.agentDid, denial);
  }

  snapshot(): GrantsSnapshot {
    return { version: 1, grants: [...this.#grants.values()], denials: [...this.#denials.values()] };
  }

  async create(
    grant: GrantRecord,
    maxPending: number,
    nowMs: number,
  ): Promise<"created" | "pending_limit"> {
    assertNewGrant(grant, maxPending, nowMs);
    if (this.#grants.has(grant.id)) throw new DuplicateIdError("grant id");
    if (this.#livePending(grant.agentDid, nowMs) >= maxPending) return "pending_limit";
    this.#insert(grant);
    await this.#persist();
    return "created";
  }

  async get(id: string): Promise<GrantRecord | undefined> {
    return this.#grants.get(id);
  }

  async update(next: GrantRecord, expectedRevision: number): Promise<boolean> {
    assertNextRevision(next, expectedRevision);
    const current = this.#grants.get(next.id);
    if (current === undefined || current.revision !== expectedRevision) return false;
    if (!sameGrantIndexFields(current, next)) throw grantIndexChangedError();
    this.#grants.set(next.id, next);
    this.#trackPending(next);
    await this.#persist();
    return true;
  }

  async list(query: GrantListQuery): Promise<GrantPage> {
    assertPositiveInteger("limit", query.limit);
    const keys = this.#listKeys;
    let i = keys.length - 1;
    if (query.cursor !== undefined) {
      const after = decodeGrantCursor(query.cursor);
      i = sortedIndexAfter(keys, after) - 1;
      if (keys[i] === after) i--;
    }
    const grants: GrantRecord[] = [];
    for (; i >= 0; i--) {
      const key = keys[i] as string;
      const grant = this.#grants.get(grantIdOfListKey(key)) as GrantRecord;
      if (!matchesGrantQuery(grant, query)) continue;
      grants.push(grant);
      if (grants.length === query.limit) {
        return i > 0 ? { grants, nextCursor: encodeGrantCursor(key) } : { grants };
      }
    }
    return { grants };
  }

  async recordDenial(
    agentDid: string,
    nowMs: number,
    baseMs: number,
    maxMs: number,
  ): Promise<number> {
    assertDenialArgs(nowMs, baseMs, maxMs);
    const denials = (this.#denials.get(agentDid)?.denials ?? 0) + 1;
    const until = denialCooldownUntil(denials, nowMs, baseMs, maxMs);
    this.#denials.set(agentDid, { agentDid, denials, until });
    await this.#persist();
    return until;
  }

  async cooldownUntil(agentDid: string): Promise<number | undefined> {
    return this.#denials.get(agentDid)?.until;
  }

  async resetDenials(agentDid: string): Promise<void> {
    if (!this.#denials.delete(agentDid)) return;
    await this.#persist();
  }

  /** Counts the agent's pending grants unexpired at `nowMs`, forgetting expired ones. */
  #livePending(agentDid: string, nowMs: number): number {
    const ids = this.#pending.get(agentDid);
    if (ids === undefined) return 0;
    for (const id of ids) {
      if ((this.#grants.get(id) as GrantRecord).expiresAt <= nowMs) ids.delete(id);
    }
    return ids.size;
  }

  #insert(grant: GrantRecord): void {
    this.#grants.set(grant.id, grant);
    const key = grantListKey(grant);
    this.#listKeys.splice(sortedIndexAfter(this.#listKeys, key), 0, key);
    this.#trackPending(grant);
  }

  #trackPending(grant: GrantRecord): void {
    let ids = this.#pending.get(grant.agentDid);
    if (grant.state !== "pending") {
      ids?.delete(grant.id);
      return;
    }
    if (ids === undefined) {
      ids = new Set();
      this.#pending.set(grant.agentDid, ids);
    }
    ids.add(grant.id);
  }
}
