import { type Clock, systemClock } from "../../../../src/clock.js";

/** An access token and when it stops being valid. */
export interface IssuedToken {
  readonly accessToken: string;
  /** `DPoP` when bound to the agent's key (RFC 9449 §6), else `Bearer`. */
  readonly tokenType: string;
  /** Unix milliseconds. */
  readonly expiresAtMs: number;
  readonly scopes: readonly string[];
}

export interface TokenCacheOptions {
  /** Obtains a fresh token (a login, an assertion grant, an exchange). */
  readonly obtain: () => Promise<IssuedToken>;
  readonly clock?: Clock;
  /**
   * Refresh this long before expiry (default 60 s, at most half the token's lifetime): the
   * current token keeps being served while one refresh runs in the background.
   */
  readonly refreshAheadMs?: number;
  /** A token with less than this left is never handed out (default 5 s): a request needs time. */
  readonly minValidityMs?: number;
}

export interface TokenCache {
  /** A valid token: the cached one, or one obtained now. Concurrent callers share one obtain. */
  get(): Promise<IssuedToken>;
  /** Drops the cached token (e.g. after the resource server said `invalid_token`). */
  invalidate(): void;
}

interface Cached {
  readonly token: IssuedToken;
  /** From here on, a background refresh starts. */
  readonly refreshAtMs: number;
}

/**
 * A token cache with early refresh and single flight: at most one `obtain` runs at a time,
 * whatever the number of callers, so a burst of requests never turns into a burst of logins.
 */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const { obtain, clock = systemClock } = options;
  const refreshAheadMs = options.refreshAheadMs ?? 60_000;
  const minValidityMs = options.minValidityMs ?? 5_000;
  let cached: Cached | undefined;
  let inFlight: Promise<IssuedToken> | undefined;

  const refresh = (): Promise<IssuedToken> => {
    inFlight ??= obtain()
      .then((token) => {
        const lifetime = token.expiresAtMs - clock.now();
        cached = { token, refreshAtMs: token.expiresAtMs - Math.min(refreshAheadMs, lifetime / 2) };
        return token;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    async get() {
      const now = clock.now();
      if (!cached || now >= cached.token.expiresAtMs - minValidityMs) return refresh();
      // Early refresh: still valid, so serve it; a failed refresh is retried on the next get.
      if (now >= cached.refreshAtMs) refresh().catch(() => undefined);
      return cached.token;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
