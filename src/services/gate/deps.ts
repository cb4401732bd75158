import type { ChallengeKind } from "../../../gen/gatehouse/v1/gate_pb.js";
import type { PlatformAttestationVerifier } from "../../attestation/platform/index.js";
import type { Audit } from "../../audit/writer.js";
import type { ChallengeKinds } from "../../challenges/index.js";
import type { Clock } from "../../clock.js";
import type { KeyRing } from "../../crypto/key-ring.js";
import type { Store } from "../../store/ports.js";
import type { VerifyDeps } from "../../verify/types.js";
import type { AbuseControl } from "./abuse/index.js";

export interface GateSettings {
  readonly issuer: string;
  /**
   * The URL the token endpoint is advertised under (`sidecar.public_url`, else the issuer):
   * a token request's DPoP proof names it in `htu` (RFC 9449 §4.3).
   */
  readonly publicUrl: string;
  readonly challengeTtlSeconds: number;
  readonly passTtlSeconds: number;
  readonly defaultTokenTtlSeconds: number;
  readonly maxTokenTtlSeconds: number;
  /** Tolerated skew on attestation `iat` / `exp` / `nbf`. */
  readonly clockSkewSeconds: number;
  /** Longest `exp - iat` of a JWT-bearer assertion (RFC 7523 §3). */
  readonly assertionMaxLifetimeSeconds: number;
  readonly runtime: RuntimeSettings;
}

/** Plausible `runtime_ms` for one challenge kind, inclusive. */
export interface RuntimeBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

export interface RuntimeSettings {
  /** Slack on "reported runtime ≤ server-measured elapsed time". */
  readonly toleranceMs: number;
  readonly bounds: ReadonlyMap<ChallengeKind, RuntimeBounds>;
}

export interface GateDeps {
  readonly settings: GateSettings;
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly kinds: ChallengeKinds;
  /** Rate limits and proof-of-work admission: the first step of Challenge and Submit. */
  readonly abuse: AbuseControl;
  /** Absent when no attestation issuer is configured: platform attestations are refused. */
  readonly platformAttestation?: PlatformAttestationVerifier;
  /** The Verify pipeline's deps: token exchange verifies its subject token exactly as Verify. */
  readonly verify: VerifyDeps;
  /** The audit log: challenges issued and failed, passes and tokens issued (awaited). */
  readonly audit: Audit;
}

/** A pass as stored (by the hash of its value). */
export interface PassRecord {
  readonly did: string;
  readonly caller: string;
  readonly scopes: readonly string[];
  readonly audience: string;
  /** Unix ms. */
  readonly expiresAt: number;
}

/**
 * Records outlive their deadline by this much in the store, so a late submission is told
 * "expired" rather than "not found", and a consumed marker keeps refusing replays.
 */
export const EXPIRED_RECORD_GRACE_MS = 5 * 60_000;
