import { SignJWT } from "jose";
import { AUTONOMY_ALG, AUTONOMY_TYP } from "../../../../src/attestation/autonomy/format.js";
import type { AgentKey } from "./key.js";

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
