import type { JWK } from "jose";
import { type Clock, systemClock } from "../../../../src/clock.js";
import { importPublicJwk } from "../../../../src/crypto/jose/jwk.js";
import type { VerificationKey } from "../../../../src/crypto/key-ring.js";

/** A published key set and how long it may be kept (the source's cache hint). */
export interface JwksDocument {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
  /** From `Cache-Control: max-age` or `GetJwksResponse.cache_max_age_seconds`; absent = none. */
  readonly maxAgeSeconds?: number;
}

/** Where the key set comes from: the sidecar's `jwks_uri` (httpJwksSource) or GetJwks (rpcJwksSource). */
export type JwksSource = () => Promise<JwksDocument>;

export interface JwksKeySetOptions {
  readonly source: JwksSource;
  readonly clock?: Clock;
  /**
   * Least time between two reloads for an unknown `kid` (default 30 s): a flood of tokens
   * naming made-up kids costs at most one reload per interval.
   */
  readonly minRefreshIntervalMs?: number;
  /** Used when the source gives no cache hint; also the upper bound on any hint (default 300 s). */
  readonly maxAgeSeconds?: number;
}

/** The keys a verifier checks tokens with, as the verification steps read them. */
export interface JwksKeySet {
  /** The key by kid from memory, undefined when unknown. */
  lookup(kid: string): VerificationKey | undefined;
  /** Reload for an unknown kid: rate-limited, concurrent calls share one load. */
  refresh(): Promise<void>;
  /**
   * Keys fresh within their cache hint: reloads when they are older (or were never
   * loaded) and throws when that fails, so no token is checked against an expired set.
   */
  ensureFresh(): Promise<void>;
  /** How many loads ran (for tests and metrics). */
  readonly loads: number;
}

const ALGS = new Set(["EdDSA", "ES256"]);

/**
 * A key set with the JWKS cache rules of RFC 8414 §2 / RFC 7517 consumers: kept as long as
 * the source's cache hint says (capped), reloaded on an unknown `kid` at most once per
 * interval (a new signing key is published before it signs, so a reload finds it).
 */
export function createJwksKeySet(options: JwksKeySetOptions): JwksKeySet {
  const clock = options.clock ?? systemClock;
  const minRefreshIntervalMs = options.minRefreshIntervalMs ?? 30_000;
  const maxAgeCapSeconds = options.maxAgeSeconds ?? 300;
  let keys = new Map<string, VerificationKey>();
  let expiresAtMs = 0;
  let lastLoadMs = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;
  let loads = 0;

  const load = (): Promise<void> => {
    loading ??= (async () => {
      lastLoadMs = clock.now();
      loads += 1;
      const document = await options.source();
      keys = importKeys(document.keys);
      const hint = document.maxAgeSeconds ?? maxAgeCapSeconds;
      expiresAtMs = clock.now() + Math.min(hint, maxAgeCapSeconds) * 1000;
    })().finally(() => {
      loading = undefined;
    });
    return loading;
  };

  return {
    lookup: (kid) => keys.get(kid),
    async refresh() {
      if (loading) return loading;
      if (clock.now() - lastLoadMs < minRefreshIntervalMs) return;
      await load();
    },
    async ensureFresh() {
      if (clock.now() < expiresAtMs) return;
      // An expired set is dropped even when the reload fails: fail closed.
      keys = new Map();
      await load();
    },
    get loads() {
      return loads;
    },
  };
}

/** Each usable public key by kid; anything else in the set is skipped, never trusted. */
function importKeys(jwks: JwksDocument["keys"]): Map<string, VerificationKey> {
  const keys = new Map<string, VerificationKey>();
  for (const jwk of jwks) {
    const { kid, alg, use } = jwk;
    if (typeof kid !== "string" || kid === "" || typeof alg !== "string" || !ALGS.has(alg))
      continue;
    if (use !== undefined && use !== "" && use !== "sig") continue;
    const imported = importPublicJwk(jwk);
    if (!imported) continue;
    keys.set(kid, {
      kid,
      alg: alg as VerificationKey["alg"],
      publicKey: imported.publicKey,
      jwk: jwk as JWK,
    });
  }
  return keys;
}
