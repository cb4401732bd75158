import { hash } from "node:crypto";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { Clock } from "../clock.js";
import { constantTimeEqual } from "../crypto/constant-time.js";
import type { NonceStore } from "../store/ports.js";
import { accessTokenHash } from "./ath.js";
import { normalizeClaimedHtu, normalizeHtu } from "./htu.js";
import { createNonceSource, type NonceSource } from "./nonce.js";
import { DPOP_ALGS, type ParsedProof, parseProof } from "./proof.js";

export interface DpopSettings {
  /** Oldest accepted `iat`, seconds before now (RFC 9449 §4.3 point 10, §11.1). */
  readonly maxAgeSeconds: number;
  /** How far in the future an `iat` may be (clock skew). */
  readonly clockSkewSeconds: number;
  /** HMAC secret for server nonces (RFC 9449 §8); absent = nonces off. */
  readonly nonceSecret?: string;
}

/** The request a proof must be for. */
export interface ProofRequest {
  /** The HTTP method (`htm`), e.g. `POST`. */
  readonly method: string;
  /** The request URL; its query and fragment are ignored (RFC 9449 §4.3 point 9). */
  readonly url: string;
  /** The access token presented with the proof: `ath` must be its hash (§4.3 point 11). */
  readonly accessToken?: string;
  /** The thumbprint the token is bound to (`cnf.jkt`): the proof key must match (§7.1). */
  readonly expectedJkt?: string;
}

export type DpopResult =
  | { readonly ok: true; readonly jkt: string }
  | {
      readonly ok: false;
      readonly reason: Reason;
      /** Set with DPOP_NONCE_REQUIRED: the one the client must use (§8, §9). */
      readonly nonce?: string;
      /**
       * Set when the failure is the bound key holder's own: the proof's signature verifies
       * under the key the token is bound to, its `iat` is within the window and its `jti`
       * was never seen, yet it was made for another method, URL or token. Anyone who has
       * seen a bound token can send junk proofs (another key, a bad signature), and anyone
       * who has seen a proof can replay it or send it stale; none of those is the holder's
       * doing, so only failures marked so may count against the agent (envelope freeze).
       * The one thing a third party can still do is divert a genuine proof it received
       * before that proof was used: it then counts once (its `jti` is spent), so the count
       * never exceeds the number of proofs the holder made and sent it.
       */
      readonly byKeyHolder?: true;
    };

export interface DpopVerifier {
  /** The algorithms proofs may use (RFC 9449 §5.1 `dpop_signing_alg_values_supported`). */
  readonly algs: readonly string[];
  /** The nonce to hand out now, when server nonces are on. */
  nonce(): string | undefined;
  /** RFC 9449 §4.3 in full; the `jti` is consumed only once every other check passed. */
  verify(proof: string, request: ProofRequest): Promise<DpopResult>;
}

export interface DpopVerifierDeps {
  readonly clock: Clock;
  /** Shared by every replica, so a `jti` is single-use across all of them. */
  readonly nonces: NonceStore;
  readonly settings: DpopSettings;
}

/** The NonceStore namespace of proof `jti`s. */
const JTI_NAMESPACE = "dpop";

/**
 * `ath` values by access token: a pure function of the token, asked again for every proof
 * sent with it. Bounded, emptied when full; keys are tokens up to the 8 KiB request limit.
 */
const MAX_MEMOIZED_HASHES = 512;

export function createDpopVerifier(deps: DpopVerifierDeps): DpopVerifier {
  const { clock, nonces, settings } = deps;
  const { maxAgeSeconds, clockSkewSeconds } = settings;
  const serverNonces: NonceSource | undefined =
    settings.nonceSecret === undefined
      ? undefined
      : createNonceSource(settings.nonceSecret, maxAgeSeconds, clock);
  // A proof is accepted while iat ∈ [now − maxAge, now + skew]; its jti is remembered for at
  // least that long (plus skew again for replicas whose clocks differ), RFC 9449 §11.1.
  const jtiTtlMs = (maxAgeSeconds + 2 * clockSkewSeconds) * 1000;
  const invalid: DpopResult = { ok: false, reason: Reason.DPOP_INVALID };
  const tokenHashes = new Map<string, string>();
  const tokenHash = (accessToken: string): string => {
    let hash = tokenHashes.get(accessToken);
    if (hash === undefined) {
      hash = accessTokenHash(accessToken);
      if (tokenHashes.size >= MAX_MEMOIZED_HASHES) tokenHashes.clear();
      tokenHashes.set(accessToken, hash);
    }
    return hash;
  };

  return {
    algs: [...DPOP_ALGS],
    nonce: () => serverNonces?.current(),
    async verify(proof, request) {
      // §4.3 points 1–7: syntax, typ, alg, public jwk, signature, claim types.
      const parsed = parseProof(proof);
      if (!parsed) return invalid;
      const forThisRequest = matchesRequest(parsed, request, tokenHash);
      // Point 12 / §6.1: the proof key is the one the token is bound to.
      const { expectedJkt } = request;
      const byBoundKey = expectedJkt !== undefined && constantTimeEqual(parsed.jkt, expectedJkt);
      if (expectedJkt !== undefined && !byBoundKey) return invalid;
      // A proof for another request is refused at once, unless the bound key signed it: such
      // a proof goes on to the time, nonce and single-use checks below, so it can be told
      // apart from a copy of a genuine proof.
      if (!forThisRequest && !byBoundKey) return invalid;
      // Point 10: iat within the window (§11.1 limits how long a proof can be replayed).
      const now = Math.floor(clock.now() / 1000);
      if (parsed.iat < now - maxAgeSeconds || parsed.iat > now + clockSkewSeconds) return invalid;
      // Point 10 with nonces (§8, §9): a missing or stale nonce gets a fresh one.
      if (serverNonces && (parsed.nonce === undefined || !serverNonces.isValid(parsed.nonce))) {
        return { ok: false, reason: Reason.DPOP_NONCE_REQUIRED, nonce: serverNonces.current() };
      }
      // §11.1: single use across replicas, after every other check so an invalid proof by
      // anyone else never burns a jti. The key is a hash: scoped per proof key, bounded, and
      // no client value in the store. A proof by the bound key is single-use whatever request
      // it was for, so one proof is counted against its holder at most once.
      const id = hash("sha256", `${parsed.jkt}\0${parsed.jti}`, "base64url");
      if (!(await nonces.useOnce(JTI_NAMESPACE, id, jtiTtlMs))) {
        return { ok: false, reason: Reason.DPOP_REPLAYED };
      }
      // Signed by the bound key, within its time window and never seen before, yet made for
      // another request: only the key's holder can have made it (see DpopResult).
      if (!forThisRequest) return { ok: false, reason: Reason.DPOP_INVALID, byKeyHolder: true };
      return { ok: true, jkt: parsed.jkt };
    },
  };
}

/**
 * §4.3 points 8, 9 and 11: `htm` is the request's method (methods are case-sensitive, RFC
 * 9110 §9.1); `htu` the request URL without query and fragment, both normalized; with an
 * access token, `ath` the hash of exactly that token, and without one (the token endpoint)
 * no `ath` at all.
 */
function matchesRequest(
  parsed: ParsedProof,
  request: ProofRequest,
  tokenHash: (accessToken: string) => string,
): boolean {
  if (request.method === "" || parsed.htm !== request.method) return false;
  const requestUrl = normalizeHtu(request.url);
  if (requestUrl === undefined || normalizeClaimedHtu(parsed.htu) !== requestUrl) return false;
  if (request.accessToken === undefined) return parsed.ath === undefined;
  return parsed.ath !== undefined && constantTimeEqual(parsed.ath, tokenHash(request.accessToken));
}
