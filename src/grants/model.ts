import { createHash } from "node:crypto";
import { encodeSigningInput } from "../crypto/signing-input.js";
import type { CapabilityRecord, GrantRecord } from "../store/ports.js";
import type { GrantDecision } from "./lifecycle.js";

/** The verbs of the built-in actions; a custom capability's name may not be one of them. */
export const BUILT_IN_VERBS: ReadonlySet<string> = new Set(["read", "write", "transact", "delete"]);

/** The scope a capability stands for in tokens: `<verb>` or `<verb>:<resource>`. */
export function capabilityScope(capability: CapabilityRecord): string {
  const verb = capability.action === "custom" ? (capability.name ?? "") : capability.action;
  return capability.resource ? `${verb}:${capability.resource}` : verb;
}

/** The scopes a list of capabilities stands for, distinct, in order. */
export function capabilityScopes(capabilities: readonly CapabilityRecord[]): string[] {
  return [...new Set(capabilities.map(capabilityScope))];
}

/**
 * The bytes a human's passkey signs to decide a grant (the WebAuthn challenge): SHA-256 of a
 * domain-separated signing input over the ticket nonce, the decision and the grant's exact
 * content (everything the approval page shows). A changed grant, another decision or another
 * ticket yields another challenge, so an assertion can only ever decide what the human saw.
 */
export function decisionChallenge(
  grant: GrantRecord,
  decision: GrantDecision,
  nonce: string,
): Uint8Array {
  const input = encodeSigningInput("grant-decision", [
    ["nonce", nonce],
    ["decision", decision],
    ["grant_id", grant.id],
    ["agent", grant.agentDid],
    ["operator", grant.operatorDomain],
    ["audience", grant.audience],
    ["scopes", capabilityScopes(grant.capabilities).join(" ")],
    ["reason", grant.reason],
    ["duration_ms", String(grant.durationMs)],
    ["created_at", String(grant.createdAt)],
  ]);
  return createHash("sha256").update(input).digest();
}
