/** What a platform attestation must be bound to. */
export interface PlatformBinding {
  /** The challenge id: the attestation must carry it, so it cannot predate the challenge. */
  readonly nonce: string;
  /** The agent's DID, for verifiers whose evidence can bind it too. */
  readonly did: string;
}

/** The verified claims of a platform attestation, for verifiers that produce them. */
export type PlatformClaims = Readonly<Record<string, unknown>>;

/**
 * Verifies a platform (hardware / cloud) attestation token (`SubmitRequest.platform_attestation`).
 * Resolves `false` when the token is not valid evidence for this binding; throws (a
 * GatehouseError) only when the verifier itself cannot work, e.g. its key source is down.
 * One implementation today: ./jwt-issuer.ts.
 */
export interface PlatformAttestationVerifier {
  verify(token: string, binding: PlatformBinding): Promise<boolean | PlatformClaims>;
}
