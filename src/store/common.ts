/**
 * Errors, argument checks and orderings shared by every adapter, so the embedded and
 * Redis stores refuse and order exactly alike (the contract suite holds them to it).
 *
 * Both errors mean a bug in the caller (or an astronomically unlikely random-id
 * collision), never bad client input: services validate input before it gets here.
 */

import type {
  AgentRecord,
  ApproverRecord,
  GrantListQuery,
  GrantRecord,
  OperatorPatch,
  SigningKeyRecord,
} from "./ports.js";

/** A write was refused because its id (one-time record id, signing key kid) exists. */
export class DuplicateIdError extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = "DuplicateIdError";
  }
}

/** A call broke a precondition of the port contract. */
export class StorePreconditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StorePreconditionError";
  }
}

/** TTLs and page sizes: Redis PX and LIMIT take positive integers only. */
export function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new StorePreconditionError(`${name} must be a positive integer`);
  }
}

/** Signature counters: Lua compares them as doubles, exact up to 2^53. */
export function assertNonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StorePreconditionError(`${name} must be a non-negative safe integer`);
  }
}

const NAMESPACE = /^[a-z][a-z0-9_-]*$/;

/**
 * Nonce namespaces are code constants; keeping them to a tiny alphabet (no ":") means
 * `namespace:id` keys can never collide across namespaces.
 */
export function assertNamespace(namespace: string): void {
  if (!NAMESPACE.test(namespace)) {
    throw new StorePreconditionError("nonce namespace must match [a-z][a-z0-9_-]*");
  }
}

/** Compare-and-set precondition: the revision moves by exactly one, so CAS chains have no gaps. */
export function assertNextRevision(
  next: { readonly revision: number },
  expectedRevision: number,
): void {
  if (next.revision !== expectedRevision + 1) {
    throw new StorePreconditionError("next.revision must be expectedRevision + 1");
  }
}

/** A key may change only by rotation, which keeps the old key in `retiredKeys`. */
export function publicKeyChangedError(): StorePreconditionError {
  return new StorePreconditionError(
    "an agent's publicKeyHex changes only by rotation, with the old key in retiredKeys",
  );
}

/** A key rotation was refused: the new key was registered before (keys are never reused). */
export class PublicKeyInUseError extends Error {
  constructor() {
    super("public key was registered before");
    this.name = "PublicKeyInUseError";
  }
}

/** Whether `next` retires `currentKeyHex` (the precondition of a rotation). */
export function retiresKey(next: AgentRecord, currentKeyHex: string): boolean {
  return next.retiredKeys?.some((key) => key.publicKeyHex === currentKeyHex) ?? false;
}

/**
 * Serialises a one-time or expiring record. Both adapters store JSON, so a value JSON alters
 * (a Date comes back as a string) comes back altered in embedded mode too, and one JSON
 * cannot carry at all (undefined) is refused by both: no surprise when switching to Redis.
 */
export function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new StorePreconditionError("record value must be JSON-serialisable");
  }
  return json;
}

/** Orders signing keys oldest first, then by kid: the order every adapter lists them in. */
export function compareSigningKeys(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);
}

/** Orders approvers oldest first, then by id: a Redis sorted set scored by `createdAt` agrees. */
export function compareApprovers(a: ApproverRecord, b: ApproverRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The index of the first string sorting strictly after `value` in ascending `sorted` (binary
 * search). Keys here are ASCII, so JS string order is the byte order Redis's BYLEX ranges use.
 */
export function sortedIndexAfter(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The fields a patch sets, and only those: `patchOperator` never writes anything else. */
export function operatorPatchFields(patch: OperatorPatch): OperatorPatch {
  return {
    ...(patch.verification === undefined ? {} : { verification: patch.verification }),
    ...(patch.publicKeyHex === undefined ? {} : { publicKeyHex: patch.publicKeyHex }),
  };
}

/** `GrantStore.create`'s preconditions: a new grant is pending and the limit is positive. */
export function assertNewGrant(grant: GrantRecord, maxPending: number, nowMs: number): void {
  if (grant.state !== "pending") throw new StorePreconditionError("a new grant must be pending");
  assertPositiveInteger("maxPending", maxPending);
  assertPositiveInteger("nowMs", nowMs);
}

/** The grant indexes are keyed by these fields, so an update must keep them. */
export function sameGrantIndexFields(current: GrantRecord, next: GrantRecord): boolean {
  return (
    current.agentDid === next.agentDid &&
    current.operatorDomain === next.operatorDomain &&
    current.createdAt === next.createdAt
  );
}

export function grantIndexChangedError(): StorePreconditionError {
  return new StorePreconditionError(
    "a grant's agentDid, operatorDomain and createdAt never change",
  );
}

/** Digits of the largest safe integer: every `createdAt` pads to the same width. */
const CREATED_AT_DIGITS = 16;

/**
 * A grant's place in every listing: `createdAt` zero-padded, then the id. Newest first
 * (createdAt desc, then id desc) is descending string order of these keys, which Redis
 * walks with ZREVRANGEBYLEX.
 */
export function grantListKey(grant: GrantRecord): string {
  return `${String(grant.createdAt).padStart(CREATED_AT_DIGITS, "0")}:${grant.id}`;
}

export function grantIdOfListKey(key: string): string {
  return key.slice(CREATED_AT_DIGITS + 1);
}

/** A page cursor is the list key of the last grant examined, base64url (opaque, URL-safe). */
export function encodeGrantCursor(listKey: string): string {
  return Buffer.from(listKey, "utf8").toString("base64url");
}

/** Any string decodes to some list key: a forged cursor only moves where a listing starts. */
export function decodeGrantCursor(cursor: string): string {
  return Buffer.from(cursor, "base64url").toString("utf8");
}

export function matchesGrantQuery(grant: GrantRecord, query: GrantListQuery): boolean {
  return (
    (query.operatorDomain === undefined || grant.operatorDomain === query.operatorDomain) &&
    (query.agentDid === undefined || grant.agentDid === query.agentDid) &&
    (query.state === undefined || grant.state === query.state)
  );
}

/** `recordDenial`'s arguments, checked alike in every adapter. */
export function assertDenialArgs(nowMs: number, baseMs: number, maxMs: number): void {
  assertPositiveInteger("nowMs", nowMs);
  assertPositiveInteger("baseMs", baseMs);
  assertPositiveInteger("maxMs", maxMs);
}

/** The back-off after `denials` consecutive denials: doubling from `baseMs`, capped at `maxMs`. */
export function denialCooldownUntil(
  denials: number,
  nowMs: number,
  baseMs: number,
  maxMs: number,
): number {
  return nowMs + Math.min(maxMs, baseMs * 2 ** (denials - 1));
}
