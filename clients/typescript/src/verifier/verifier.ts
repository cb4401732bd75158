import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { type Clock, systemClock } from "../../../../src/clock.js";
import { createDpopVerifier } from "../../../../src/dpop/verifier.js";
import type { JwksKeySet } from "./jwks.js";
import { verifyOffline } from "./offline.js";
import { type VerifyRpcClient, verifyOnline } from "./online.js";
import { UNDECIDED, type VerifyOutcome } from "./outcome.js";
import { createMemoryReplayStore, type ReplayStore } from "./replay-store.js";

export interface VerifierOptions {
  /** The Gatehouse issuer: every token's `iss`. */
  readonly issuer: string;
  /** This service's audience (each call may name another). */
  readonly audience: string;
  /** The key set for offline verification (createJwksKeySet). */
  readonly keys?: JwksKeySet;
  /** A VerifyService client (verifier certificate) for online verification. */
  readonly online?: VerifyRpcClient;
  /**
   * `offline` (keys only), `online` (every call asks Gatehouse), or `offline-then-online`
   * (the default when both are given): offline first, Gatehouse when the key set cannot be
   * loaded or still names no key for the token's `kid`.
   */
  readonly mode?: "offline" | "online" | "offline-then-online";
  /** Allowed clock difference, seconds (default 30, as Gatehouse's default). */
  readonly clockSkewSeconds?: number;
  /** Longest `exp - iat` accepted, seconds (default 3600). */
  readonly maxTokenTtlSeconds?: number;
  /** DPoP proofs: single-use `jti`s (default: in memory), the `iat` window, server nonces. */
  readonly dpop?: {
    readonly replay?: ReplayStore;
    /** Oldest accepted proof `iat`, seconds (default 60). */
    readonly maxAgeSeconds?: number;
    /** HMAC secret (≥ 32 bytes) to require server nonces (RFC 9449 §8); absent = off. */
    readonly nonceSecret?: string;
  };
  readonly clock?: Clock;
}

/** One request to decide. */
export interface VerifyRequest {
  readonly token: string;
  readonly requiredScopes?: readonly string[];
  /** Defaults to the verifier's audience. */
  readonly audience?: string;
  /** The request's `DPoP` header, its method and its full URL (RFC 9449 §4.3). */
  readonly dpopProof?: string;
  readonly method?: string;
  readonly url?: string;
}

export interface Verifier {
  /** Decides; never throws: a failure to decide is a refusal (REASON_UNAVAILABLE). */
  verify(request: VerifyRequest): Promise<VerifyOutcome>;
  readonly audience: string;
}

/** Refusals offline that Gatehouse may still decide otherwise. */
const UNKNOWN_OFFLINE = new Set([Reason.TOKEN_KID_UNKNOWN, Reason.UNAVAILABLE]);

export function createVerifier(options: VerifierOptions): Verifier {
  const clock = options.clock ?? systemClock;
  const { keys, online } = options;
  const mode = options.mode ?? (keys ? (online ? "offline-then-online" : "offline") : "online");
  if (mode !== "online" && !keys) throw new TypeError(`mode ${mode} needs keys`);
  if (mode !== "offline" && !online) throw new TypeError(`mode ${mode} needs an online client`);
  const clockSkewSeconds = options.clockSkewSeconds ?? 30;
  const dpop = createDpopVerifier({
    clock,
    nonces: options.dpop?.replay ?? createMemoryReplayStore({ clock }),
    settings: {
      maxAgeSeconds: options.dpop?.maxAgeSeconds ?? 60,
      clockSkewSeconds,
      ...(options.dpop?.nonceSecret !== undefined && { nonceSecret: options.dpop.nonceSecret }),
    },
  });
  const settings = {
    issuer: options.issuer,
    clockSkewSeconds,
    maxTokenTtlSeconds: options.maxTokenTtlSeconds ?? 3600,
    maxCacheTtlSeconds: 0,
  };

  const decide = async (request: VerifyRequest): Promise<VerifyOutcome> => {
    const input = {
      token: request.token,
      audience: request.audience ?? options.audience,
      requiredScopes: request.requiredScopes ?? [],
      ...(request.dpopProof !== undefined && { dpopProof: request.dpopProof }),
      ...(request.method !== undefined && { httpMethod: request.method }),
      ...(request.url !== undefined && { httpUrl: request.url }),
    };
    if (mode === "online" && online) return verifyOnline(online, input);
    const local =
      keys && (await verifyOffline(input, { keys, settings, dpop, clock }).catch(() => UNDECIDED));
    if (local && (local.allowed || mode === "offline" || !UNKNOWN_OFFLINE.has(local.reason))) {
      return local;
    }
    return online ? verifyOnline(online, input) : UNDECIDED;
  };

  return {
    audience: options.audience,
    verify: (request) => decide(request).catch(() => UNDECIDED),
  };
}
