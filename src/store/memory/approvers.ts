import { assertNonNegativeInteger, compareApprovers } from "../common.js";
import type { ApproverRecord, ApproverStore, CreateResult } from "../ports.js";
import { isObject, type Persist } from "./snapshot.js";

/** The approvers file's content. */
export interface ApproversSnapshot {
  readonly version: 1;
  readonly approvers: readonly ApproverRecord[];
  /** Credential ids of removed approvers, reserved for ever (absent in older files). */
  readonly retiredCredentials?: readonly string[];
}

export function parseApproversSnapshot(data: unknown, source: string): ApproversSnapshot {
  const valid =
    isObject(data) &&
    data.version === 1 &&
    Array.isArray(data.approvers) &&
    data.approvers.every(
      (a) =>
        isObject(a) &&
        typeof a.id === "string" &&
        typeof a.operatorDomain === "string" &&
        Array.isArray(a.passkeys) &&
        a.passkeys.every((p) => isObject(p) && typeof p.credentialId === "string"),
    ) &&
    (data.retiredCredentials === undefined ||
      (Array.isArray(data.retiredCredentials) &&
        data.retiredCredentials.every((c) => typeof c === "string")));
  if (!valid) throw new Error(`${source} is not a Gatehouse approvers file (version 1)`);
  return data as unknown as ApproversSnapshot;
}

/**
 * In-memory approvers and their passkeys. Each write checks and mutates synchronously, then
 * awaits persistence, so duplicate credentials and counter races resolve exactly as on Redis.
 */
export class MemoryApprovers implements ApproverStore {
  readonly #approvers = new Map<string, ApproverRecord>();
  /** credential id → approver id, for every current approver's passkey. */
  readonly #credentials = new Map<string, string>();
  /** Credential ids of removed approvers: never registered again. */
  readonly #retired = new Set<string>();
  readonly #persist: Persist;

  constructor(persist: Persist, initial?: ApproversSnapshot) {
    this.#persist = persist;
    this.restore(initial);
  }

  restore(snapshot: ApproversSnapshot | undefined): void {
    this.#approvers.clear();
    this.#credentials.clear();
    this.#retired.clear();
    for (const id of snapshot?.retiredCredentials ?? []) this.#retired.add(id);
    for (const approver of snapshot?.approvers ?? []) this.#insert(approver);
  }

  snapshot(): ApproversSnapshot {
    return {
      version: 1,
      approvers: [...this.#approvers.values()],
      retiredCredentials: [...this.#retired],
    };
  }

  async create(approver: ApproverRecord): Promise<CreateResult> {
    const taken = approver.passkeys.some(
      ({ credentialId }) => this.#credentials.has(credentialId) || this.#retired.has(credentialId),
    );
    if (taken || this.#approvers.has(approver.id)) return "exists";
    this.#insert(approver);
    await this.#persist();
    return "created";
  }

  async get(id: string): Promise<ApproverRecord | undefined> {
    return this.#approvers.get(id);
  }

  async findByCredential(credentialId: string): Promise<ApproverRecord | undefined> {
    const id = this.#credentials.get(credentialId);
    return id === undefined ? undefined : this.#approvers.get(id);
  }

  async listByDomain(operatorDomain: string): Promise<readonly ApproverRecord[]> {
    return [...this.#approvers.values()]
      .filter((approver) => approver.operatorDomain === operatorDomain)
      .sort(compareApprovers);
  }

  async remove(id: string): Promise<boolean> {
    const approver = this.#approvers.get(id);
    if (approver === undefined) return false;
    this.#approvers.delete(id);
    for (const { credentialId } of approver.passkeys) {
      this.#credentials.delete(credentialId);
      this.#retired.add(credentialId);
    }
    await this.#persist();
    return true;
  }

  async updateCounter(
    approverId: string,
    credentialId: string,
    expected: number,
    next: number,
  ): Promise<boolean> {
    assertNonNegativeInteger("expected", expected);
    assertNonNegativeInteger("next", next);
    const approver = this.#approvers.get(approverId);
    const passkey = approver?.passkeys.find((p) => p.credentialId === credentialId);
    if (approver === undefined || passkey?.counter !== expected) return false;
    const passkeys = approver.passkeys.map((p) => (p === passkey ? { ...p, counter: next } : p));
    this.#approvers.set(approverId, { ...approver, passkeys });
    await this.#persist();
    return true;
  }

  #insert(approver: ApproverRecord): void {
    this.#approvers.set(approver.id, approver);
    for (const passkey of approver.passkeys) {
      this.#credentials.set(passkey.credentialId, approver.id);
    }
  }
}
