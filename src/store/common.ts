/**
 * Errors, argument checks and orderings shared by every adapter, so the embedded and
 * Redis stores refuse and order exactly alike (the contract suite holds them to it).
 *
 * Both errors mean a bug in the caller (or an astronomically unlikely random-id
 * collision), never bad client input: services validate input before it gets here.
 */

import type { AgentRecord, SigningKeyRecord } from "./ports.js";

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

/** `updateAgent`'s precondition: the revision moves by exactly one, so CAS chains have no gaps. */
export function assertNextRevision(next: AgentRecord, expectedRevision: number): void {
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
 * Serialises a one-time record. Both adapters store JSON, so a value JSON alters (a Date
 * comes back as a string) comes back altered in embedded mode too, and one JSON cannot
 * carry at all (undefined) is refused by both: no surprise when switching to Redis.
 */
export function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new StorePreconditionError("one-time record value must be JSON-serialisable");
  }
  return json;
}

/** Orders signing keys oldest first, then by kid: the order every adapter lists them in. */
export function compareSigningKeys(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);
}
