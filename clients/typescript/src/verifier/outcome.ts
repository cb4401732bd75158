import { Reason } from "../errors.js";

/** What a verifier learned about an allowed token. */
export interface VerifiedToken {
  /** The agent (`sub`). */
  readonly agentDid: string;
  /** The current actor of a delegated token (RFC 8693 `act`), else empty. */
  readonly actorDid: string;
  readonly operatorDomain: string;
  readonly scopes: readonly string[];
  /** Unix milliseconds. */
  readonly expiresAtMs: number;
  /** The token's id (`jti`). */
  readonly tokenId: string;
  /** How the decision was made. */
  readonly source: "offline" | "online";
}

/** A decision: allowed with what was verified, or refused with its typed reason. */
export type VerifyOutcome =
  | { readonly allowed: true; readonly token: VerifiedToken }
  | {
      readonly allowed: false;
      readonly reason: Reason;
      /** With DPOP_NONCE_REQUIRED: the nonce the client must use (RFC 9449 §8). */
      readonly dpopNonce?: string;
    };

export const refused = (reason: Reason, dpopNonce?: string): VerifyOutcome => ({
  allowed: false,
  reason,
  ...(dpopNonce !== undefined && dpopNonce !== "" && { dpopNonce }),
});

/** Could not decide (key set or Gatehouse unreachable): refused, never allowed. */
export const UNDECIDED: VerifyOutcome = refused(Reason.UNAVAILABLE);
