import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { SignJWT } from "jose";
import type { SignatureChallenge } from "../../gen/gatehouse/v1/gate_pb.js";
import { AUTONOMY_ALG, AUTONOMY_TYP } from "../attestation/autonomy/format.js";
import { challengeSigningInput } from "../challenges/signature/signing-input.js";
import { deriveAgentDid } from "../crypto/did.js";
import { registrationSigningInput } from "../crypto/signing-input.js";

/** An agent's Ed25519 key pair; the private key never leaves the agent. */
export interface AgentKey {
  readonly privateKey: KeyObject;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
}

export function generateAgentKey(): AgentKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  return { privateKey, publicKey: Buffer.from(jwk.x ?? "", "base64url") };
}

export function agentKeyFromPem(pem: string): AgentKey {
  const privateKey = createPrivateKey(pem);
  const jwk = privateKey.export({ format: "jwk" });
  return { privateKey, publicKey: Buffer.from(jwk.x ?? "", "base64url") };
}

export function agentDid(key: AgentKey, operatorDomain: string): string {
  return deriveAgentDid(operatorDomain, key.publicKey);
}

/** The proof of possession RegisterAgent requires. */
export function proofOfPossession(key: AgentKey, did: string, operatorDomain: string): Uint8Array {
  return sign(null, registrationSigningInput(did, key.publicKey, operatorDomain), key.privateKey);
}

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

export interface AutonomyAttestationInput {
  readonly did: string;
  /** The challenge being answered (the `nonce` claim). */
  readonly challengeId: string;
  readonly operationSeconds: number;
  readonly autonomousActions: number;
  /** base64url SHA-256 of the agent's decision chain (43 characters). */
  readonly decisionChain: string;
  /** Unix seconds. */
  readonly iat: number;
}

/** Signs an autonomy attestation for `SubmitRequest.autonomy_attestation` (compact JWS). */
export function autonomyAttestation(
  key: AgentKey,
  input: AutonomyAttestationInput,
): Promise<string> {
  return new SignJWT({
    nonce: input.challengeId,
    operation_seconds: input.operationSeconds,
    autonomous_actions: input.autonomousActions,
    decision_chain: input.decisionChain,
  })
    .setProtectedHeader({ alg: AUTONOMY_ALG, typ: AUTONOMY_TYP })
    .setIssuer(input.did)
    .setSubject(input.did)
    .setIssuedAt(input.iat)
    .sign(key.privateKey);
}
