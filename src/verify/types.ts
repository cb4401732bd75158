import type { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { Clock } from "../clock.js";
import type { KeyRing, VerificationKey } from "../crypto/key-ring.js";
import type { DpopVerifier } from "../dpop/index.js";
import type {
  AgentRecord,
  EnvelopeStore,
  GrantRecord,
  OperatorRecord,
  RateLimiter,
  RevocationKind,
} from "../store/ports.js";
import type { VerifyCache } from "./cache.js";
import type { Pending } from "./lookup-cache.js";

/** What a verifier asks. */
export interface VerifyInput {
  readonly token: string;
  readonly audience: string;
  readonly requiredScopes: readonly string[];
  /** The request's DPoP proof (RFC 9449 §4.1); empty or absent = none. */
  readonly dpopProof?: string;
  /** The method and URL of the request the token came with (the proof's `htm`, `htu`). */
  readonly httpMethod?: string;
  readonly httpUrl?: string;
  /** The amount the request commits the agent to (minor units ≥ 0); absent = spends nothing. */
  readonly amount?: VerifyAmount | undefined;
  /**
   * Set only by Gatehouse itself, never from a request: the RFC 7638 thumbprint of a key the
   * caller already proved possession of on this request (a token request's DPoP proof, RFC
   * 9449 §5, for a token exchange). It stands in for a resource-request proof: a bound token
   * passes the DPoP step when its `cnf.jkt` is this thumbprint.
   */
  readonly provenJkt?: string;
}

/** An amount stated with a request: ISO 4217 currency and minor units. */
export interface VerifyAmount {
  readonly currency: string;
  readonly minorUnits: bigint;
}

/** The configuration the steps read. */
export interface VerifySettings {
  readonly issuer: string;
  readonly clockSkewSeconds: number;
  readonly maxTokenTtlSeconds: number;
  /** Upper bound on a cached decision; keeps revocation effective. */
  readonly maxCacheTtlSeconds: number;
}

/**
 * The store reads of the Verify steps, at the run's instant `nowMs`. The store's own ports
 * fit (they answer with a promise and ignore the instant); the verify caches (cache.ts)
 * answer a usable cached value synchronously, so a cached Verify waits for nothing.
 */
export interface VerifyRegistryReads {
  getAgent(did: string, nowMs: number): Pending<AgentRecord | undefined>;
  getOperator(domain: string, nowMs: number): Pending<OperatorRecord | undefined>;
}

export interface VerifyRevocationReads {
  isRevoked(kind: RevocationKind, id: string, nowMs: number): Pending<boolean>;
  issuedUntil(did: string, nowMs: number): Pending<number | undefined>;
}

export interface VerifyGrantReads {
  get(id: string, nowMs: number): Pending<GrantRecord | undefined>;
}

export interface VerifyDeps {
  readonly settings: VerifySettings;
  readonly clock: Clock;
  readonly keys: KeyRing;
  readonly registry: VerifyRegistryReads;
  readonly revocations: VerifyRevocationReads;
  /** Checks the DPoP proofs of key-bound tokens (RFC 9449 §7.1). */
  readonly dpop: DpopVerifier;
  /**
   * The verified-token cache (cache.ts) and the step lists it runs (pipeline.ts
   * `VERIFY_MEMO_STEPS`); absent = every step runs on every request.
   */
  readonly cache?: VerifyCache;
  /** Envelope state: budgets and freezes (the envelope step). */
  readonly envelopes: EnvelopeStore;
  /** The shared sliding-window limiter, for the envelope's request rate. */
  readonly rateLimits: RateLimiter;
  /** Grant look-ups for tokens that rely on human-approved grants (cached like the registry). */
  readonly grants: VerifyGrantReads;
}

/**
 * What the steps learn about the token, filled in as they run. The run creates it with every
 * field present (pipeline.ts `runVerifyPipeline`), so a step that sets one does not reshape it.
 */
export interface VerifyState {
  readonly input: VerifyInput;
  /** Milliseconds since the epoch, read once so every step sees the same instant. */
  readonly nowMs: number;
  /** The same instant in whole seconds (the unit of the time claims). */
  readonly now: number;
  /** Set just before the time step when every stateless step passed (cache.ts). */
  statelessPassed?: boolean | undefined;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Uint8Array;
  signature: Uint8Array;
  key?: VerificationKey | undefined;
  claims?: VerifiedClaims | undefined;
  agent?: AgentRecord | undefined;
  /** The scopes of the live grants the token relies on (set by the grants step). */
  grantScopes?: readonly string[] | undefined;
  /**
   * Set by the DPoP step when the proof was refused and the failure is the bound key
   * holder's own (DpopResult.byKeyHolder): only then does it count towards a freeze.
   */
  keyHolderProofFailed?: boolean | undefined;
}

/** The claims once their presence and types were checked. */
export interface VerifiedClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly scopes: readonly string[];
  readonly operator: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  /** Ids of the approved grants behind some of the scopes; absent = none. */
  readonly grants?: readonly string[];
  /** Token exchange: the `jti`s of the tokens this one derives from; absent = none. */
  readonly derivedFrom?: readonly string[];
  /**
   * Delegation (RFC 8693 §4.1 `act`): the actors' DIDs, the current actor (the agent that
   * presents the token, to whose key it is bound) first; absent = not delegated. `sub` stays
   * the principal whose authority the token carries.
   */
  readonly actors?: readonly string[];
}

/**
 * One verification step: returns a Reason to deny, or undefined to continue. Steps run in a
 * fixed order (see pipeline.ts); a step may rely on everything earlier steps established.
 */
export type VerifyStep = (
  state: VerifyState,
  deps: VerifyDeps,
) => Reason | undefined | Promise<Reason | undefined>;
