import { sign } from "node:crypto";
import type { SignatureChallenge } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { challengeSigningInput } from "../../../../src/challenges/signature/signing-input.js";
import type { AgentKey } from "./key.js";

export interface ExpectedChallenge {
  readonly challengeId: string;
  readonly did: string;
  readonly scopes: readonly string[];
  readonly audience: string;
  readonly expiresAtMs: number;
}

/**
 * Signs a signature challenge only after rebuilding its signing input from what the agent
 * asked for: an agent must never sign bytes it did not check.
 */
export function signChallenge(
  key: AgentKey,
  challenge: SignatureChallenge,
  expected: ExpectedChallenge,
): Uint8Array {
  const rebuilt = challengeSigningInput({
    ...expected,
    issuer: challenge.issuer,
    caller: challenge.caller,
    expiresAt: expected.expiresAtMs,
  });
  if (!Buffer.from(rebuilt).equals(Buffer.from(challenge.signingInput))) {
    throw new Error("challenge signing input does not match the request; refusing to sign");
  }
  return sign(null, rebuilt, key.privateKey);
}
