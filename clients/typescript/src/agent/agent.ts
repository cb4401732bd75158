import type { TokenResponse } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { type Clock, systemClock } from "../../../../src/clock.js";
import { createAgentFetch, type FetchLike } from "./fetch.js";
import { type GateClient, issuedToken } from "./gate.js";
import type { AgentKey } from "./key.js";
import {
  type AutonomyReport,
  type ChallengeLoginOptions,
  loginWithChallenge,
  tokenByAssertion,
} from "./login.js";
import { type RetryOptions, withRetry } from "./retry.js";
import { createTokenCache, type IssuedToken, type TokenCache } from "./token-cache.js";

export interface AgentOptions {
  readonly key: AgentKey;
  readonly did: string;
  /** A GateService client over the agent's mTLS connection. */
  readonly gate: GateClient;
  readonly scopes: readonly string[];
  readonly audience: string;
  /**
   * How to obtain tokens: `challenge` (Challenge → Submit → Token, the default) or
   * `assertion` (the JWT-bearer grant; needs `issuer`).
   */
  readonly login?: "challenge" | "assertion";
  /** The Gatehouse issuer, for `login: "assertion"` (the assertion's `aud`). */
  readonly issuer?: string;
  /**
   * The token endpoint URL (`<public URL>/v1/tokens`): when set, tokens are bound to the key
   * (DPoP, RFC 9449) and every request through `fetch` carries a proof.
   */
  readonly tokenEndpoint?: string;
  readonly kind?: ChallengeLoginOptions["kind"];
  readonly solveReasoning?: ChallengeLoginOptions["solveReasoning"];
  readonly autonomy?: () => AutonomyReport | Promise<AutonomyReport>;
  /** Retries of refused logins (RATE_LIMITED, UNAVAILABLE) and of 429/503 answers. */
  readonly retry?: RetryOptions;
  /** Refresh this long before expiry (see TokenCacheOptions). */
  readonly refreshAheadMs?: number;
  /** The fetch `Agent.fetch` sends with (default `globalThis.fetch`). */
  readonly fetch?: FetchLike;
  readonly clock?: Clock;
}

/** An agent: its identity, a cached token, and a `fetch` that presents it. */
export interface Agent {
  readonly did: string;
  readonly key: AgentKey;
  /** A valid token (cached, refreshed early, one login at a time). */
  token(): Promise<IssuedToken>;
  /** `fetch` with the token and, for a bound token, a DPoP proof per request. */
  readonly fetch: FetchLike;
  /** The token cache, e.g. to drop a token the agent knows was revoked. */
  readonly tokens: TokenCache;
}

export function createAgent(options: AgentOptions): Agent {
  const clock = options.clock ?? systemClock;
  const { key, did, gate, scopes, audience } = options;
  const dpop =
    options.tokenEndpoint === undefined ? undefined : { key, tokenEndpoint: options.tokenEndpoint };
  const once = (): Promise<TokenResponse> => {
    if (options.login === "assertion") {
      if (options.issuer === undefined) throw new TypeError("login: assertion needs issuer");
      const { issuer } = options;
      return tokenByAssertion(gate, {
        key,
        did,
        issuer,
        scopes,
        audience,
        clock,
        ...opt({ dpop }),
      });
    }
    return loginWithChallenge(gate, {
      key,
      did,
      scopes,
      audience,
      clock,
      ...opt({
        dpop,
        kind: options.kind,
        solveReasoning: options.solveReasoning,
        autonomy: options.autonomy,
      }),
    });
  };
  const tokens = createTokenCache({
    obtain: async () => issuedToken(await withRetry(once, options.retry)),
    clock,
    ...opt({ refreshAheadMs: options.refreshAheadMs }),
  });
  const fetch = createAgentFetch({
    key,
    tokens,
    clock,
    ...opt({ fetch: options.fetch, retry: options.retry }),
  });
  return { did, key, token: () => tokens.get(), fetch, tokens };
}

/** Only the defined entries (for `exactOptionalPropertyTypes`). */
function opt<T extends Record<string, unknown>>(
  values: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
