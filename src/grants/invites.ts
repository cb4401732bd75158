import { randomId, sha256Hex } from "../crypto/random.js";
import type { OneTimeStore } from "../store/ports.js";

/**
 * Approver invitations: single-use secrets an operator hands to a human, who redeems one on
 * the approval page to register a passkey. The store keeps the secret's hash only; the
 * secret travels in the link's fragment (`#…`), which browsers never send to a server or in
 * a Referer, so it stays out of access logs.
 */
export interface InviteRecord {
  readonly kind: "invite";
  readonly operatorDomain: string;
  readonly displayName: string;
  /** Unix ms. */
  readonly createdAt: number;
}

/** The store key of an invitation secret (its hash, namespaced among approval tickets). */
export function inviteKey(secret: string): string {
  return `invite:${sha256Hex(secret)}`;
}

/** Creates an invitation and returns its enrollment URL. */
export async function createInvite(
  tickets: OneTimeStore<unknown>,
  options: {
    readonly operatorDomain: string;
    readonly displayName: string;
    readonly nowMs: number;
    readonly ttlMs: number;
    /** The approval page's origin, e.g. `https://approve.example.com`. */
    readonly origin: string;
  },
): Promise<string> {
  const secret = randomId();
  const record: InviteRecord = {
    kind: "invite",
    operatorDomain: options.operatorDomain,
    displayName: options.displayName,
    createdAt: options.nowMs,
  };
  await tickets.put(inviteKey(secret), record, options.ttlMs);
  return `${options.origin}/approve/enroll#${secret}`;
}

/** Redeems an invitation once; undefined when unknown, used or expired. */
export async function redeemInvite(
  tickets: OneTimeStore<unknown>,
  secret: string,
): Promise<InviteRecord | undefined> {
  const result = await tickets.consume(inviteKey(secret));
  if (result.status !== "ok") return undefined;
  const value = result.value as InviteRecord;
  return value.kind === "invite" ? value : undefined;
}
