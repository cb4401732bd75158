import { encodeSigningInput } from "../../crypto/signing-input.js";

/** What a signature challenge binds. */
export interface ChallengeBinding {
  readonly issuer: string;
  readonly challengeId: string;
  readonly did: string;
  /** Client certificate SHA-256, hex. */
  readonly caller: string;
  readonly scopes: readonly string[];
  readonly audience: string;
  /** Unix ms. */
  readonly expiresAt: number;
}

/**
 * The challenge signing input: binds every parameter the eventual credential authorizes
 * (issuer, challenge nonce, DID, caller certificate, scopes, audience, deadline).
 */
export function challengeSigningInput(binding: ChallengeBinding): Uint8Array {
  return encodeSigningInput("challenge", [
    ["issuer", binding.issuer],
    ["challenge_id", binding.challengeId],
    ["did", binding.did],
    ["caller", binding.caller],
    ["scopes", [...binding.scopes].sort().join(" ")],
    ["audience", binding.audience],
    ["expires_at", String(binding.expiresAt)],
  ]);
}
