import { assertPositiveInteger, StorePreconditionError } from "./common.js";

/** The rate-limit key rule: printable ASCII without braces (a brace would break the hash tag). */
const ENVELOPE_KEY = /^[\x21-\x7a|~]{1,256}$/;

export function assertEnvelopeKey(key: string): void {
  if (!ENVELOPE_KEY.test(key)) {
    throw new StorePreconditionError("envelope key must be 1-256 printable ASCII, no braces");
  }
}

/** Checks `EnvelopeStore.spend`'s arguments alike in every adapter. */
export function assertSpendArgs(key: string, amount: number, limit: number, ttlMs: number): void {
  assertEnvelopeKey(key);
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new StorePreconditionError("amount must be a non-negative safe integer");
  }
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new StorePreconditionError("limit must be a non-negative safe integer");
  }
  assertPositiveInteger("ttlMs", ttlMs);
}
