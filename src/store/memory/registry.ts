import {
  assertNextRevision,
  assertPositiveInteger,
  operatorPatchFields,
  PublicKeyInUseError,
  publicKeyChangedError,
  retiresKey,
  sortedIndexAfter,
} from "../common.js";
import type {
  AgentListQuery,
  AgentPage,
  AgentRecord,
  CreateResult,
  OperatorPatch,
  OperatorRecord,
  OperatorStatus,
  RegistryStore,
} from "../ports.js";
import { isObject, type Persist } from "./snapshot.js";

/** The registry file's content. */
export interface RegistrySnapshot {
  readonly version: 1;
  readonly operators: readonly OperatorRecord[];
  readonly agents: readonly AgentRecord[];
}

/** Checks a loaded registry file enough to rebuild the indexes from it. */
export function parseRegistrySnapshot(data: unknown, source: string): RegistrySnapshot {
  const valid =
    isObject(data) &&
    data.version === 1 &&
    Array.isArray(data.operators) &&
    data.operators.every((o) => isObject(o) && typeof o.domain === "string") &&
    Array.isArray(data.agents) &&
    data.agents.every(
      (a) =>
        isObject(a) &&
        typeof a.did === "string" &&
        typeof a.publicKeyHex === "string" &&
        typeof a.revision === "number",
    );
  if (!valid) throw new Error(`${source} is not a Gatehouse registry file (version 1)`);
  return data as unknown as RegistrySnapshot;
}

/**
 * In-memory operators and agents. Each write checks and mutates synchronously, then
 * awaits persistence, so concurrent creates and CAS updates resolve exactly as on Redis.
 */
export class MemoryRegistry implements RegistryStore {
  readonly #operators = new Map<string, OperatorRecord>();
  readonly #agents = new Map<string, AgentRecord>();
  /**
   * Every public key ever registered, current or retired: agents are never deleted
   * (a deletion is a tombstone), so keys are never reused.
   */
  readonly #publicKeys = new Set<string>();
  /**
   * All DIDs in ascending order, for cursor pagination. DIDs are ASCII, so JS string
   * order is the byte order Redis's ZRANGEBYLEX uses.
   */
  readonly #sortedDids: string[] = [];
  readonly #persist: Persist;

  constructor(persist: Persist, initial?: RegistrySnapshot) {
    this.#persist = persist;
    this.restore(initial);
  }

  restore(snapshot: RegistrySnapshot | undefined): void {
    this.#operators.clear();
    this.#agents.clear();
    this.#publicKeys.clear();
    this.#sortedDids.length = 0;
    for (const operator of snapshot?.operators ?? [])
      this.#operators.set(operator.domain, operator);
    for (const agent of snapshot?.agents ?? []) this.#insertAgent(agent);
  }

  snapshot(): RegistrySnapshot {
    return {
      version: 1,
      operators: [...this.#operators.values()],
      agents: [...this.#agents.values()],
    };
  }

  async createOperator(operator: OperatorRecord): Promise<CreateResult> {
    if (this.#operators.has(operator.domain)) return "exists";
    this.#operators.set(operator.domain, operator);
    await this.#persist();
    return "created";
  }

  async getOperator(domain: string): Promise<OperatorRecord | undefined> {
    return this.#operators.get(domain);
  }

  async setOperatorStatus(
    domain: string,
    status: OperatorStatus,
  ): Promise<OperatorRecord | undefined> {
    const current = this.#operators.get(domain);
    if (current === undefined || current.status === "revoked" || current.status === status) {
      return current;
    }
    const next = { ...current, status };
    this.#operators.set(domain, next);
    await this.#persist();
    return next;
  }

  async patchOperator(domain: string, patch: OperatorPatch): Promise<OperatorRecord | undefined> {
    const current = this.#operators.get(domain);
    if (current === undefined) return undefined;
    const next = { ...current, ...operatorPatchFields(patch) };
    this.#operators.set(domain, next);
    await this.#persist();
    return next;
  }

  async createAgent(agent: AgentRecord): Promise<CreateResult> {
    if (this.#agents.has(agent.did) || this.#publicKeys.has(agent.publicKeyHex)) return "exists";
    this.#insertAgent(agent);
    await this.#persist();
    return "created";
  }

  async getAgent(did: string): Promise<AgentRecord | undefined> {
    return this.#agents.get(did);
  }

  async updateAgent(next: AgentRecord, expectedRevision: number): Promise<boolean> {
    assertNextRevision(next, expectedRevision);
    const current = this.#agents.get(next.did);
    if (current === undefined || current.revision !== expectedRevision) return false;
    if (current.publicKeyHex !== next.publicKeyHex) {
      // Rotation: the old key stays reserved (it is in #publicKeys already, and retired).
      if (!retiresKey(next, current.publicKeyHex)) throw publicKeyChangedError();
      if (this.#publicKeys.has(next.publicKeyHex)) throw new PublicKeyInUseError();
      this.#publicKeys.add(next.publicKeyHex);
    }
    this.#agents.set(next.did, next);
    await this.#persist();
    return true;
  }

  async listAgents(query: AgentListQuery): Promise<AgentPage> {
    assertPositiveInteger("limit", query.limit);
    const start =
      query.afterDid === undefined ? 0 : sortedIndexAfter(this.#sortedDids, query.afterDid);
    const agents: AgentRecord[] = [];
    for (let i = start; i < this.#sortedDids.length; i++) {
      const did = this.#sortedDids[i] as string;
      const agent = this.#agents.get(did) as AgentRecord;
      if (query.operatorDomain !== undefined && agent.operatorDomain !== query.operatorDomain) {
        continue;
      }
      if (query.status !== undefined && agent.status !== query.status) continue;
      agents.push(agent);
      if (agents.length === query.limit) {
        const moreFollow = i < this.#sortedDids.length - 1;
        return moreFollow ? { agents, nextAfterDid: did } : { agents };
      }
    }
    return { agents };
  }

  #insertAgent(agent: AgentRecord): void {
    this.#agents.set(agent.did, agent);
    this.#publicKeys.add(agent.publicKeyHex);
    for (const key of agent.retiredKeys ?? []) this.#publicKeys.add(key.publicKeyHex);
    this.#sortedDids.splice(sortedIndexAfter(this.#sortedDids, agent.did), 0, agent.did);
  }
}
