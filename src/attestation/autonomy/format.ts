/**
 * The autonomy attestation (`SubmitRequest.autonomy_attestation`): a compact JWS (RFC 7515
 * §7.1) over a JWT claims set, signed by the agent's registered Ed25519 key.
 *
 *   header  { "alg": "EdDSA", "typ": "gatehouse-autonomy+jwt" }   (optionally "kid": the DID)
 *   claims  { "iss": DID, "sub": DID, "nonce": challenge id, "iat": NumericDate,
 *             "operation_seconds": uint, "autonomous_actions": uint,
 *             "decision_chain": base64url SHA-256 (43 characters) }
 *
 * Shared by the verifier (src/attestation/autonomy/verify.ts) and the client builder
 * (clients/typescript/src/agent/attestation.ts).
 */

/** Explicit typing (RFC 8725 §3.11) keeps it apart from every other JWT the key could sign. */
export const AUTONOMY_TYP = "gatehouse-autonomy+jwt";

/** EdDSA over Ed25519 (RFC 8037 §3.1): the only algorithm an agent key has. */
export const AUTONOMY_ALG = "EdDSA";

/** The claims beyond the registered ones (RFC 7519 §4.2 public-collision-free names). */
export interface AutonomyClaims {
  readonly operationSeconds: number;
  readonly autonomousActions: number;
  /** base64url (no padding) SHA-256 digest. */
  readonly decisionChain: string;
}
