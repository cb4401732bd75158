import { type Clock, systemClock } from "../../../../src/clock.js";
import { dpopProof, htuOf } from "./dpop.js";
import type { AgentKey } from "./key.js";
import { backoffDelay, parseRetryAfter, type RetryOptions, retryPolicy } from "./retry.js";
import type { TokenCache } from "./token-cache.js";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface AgentFetchOptions {
  readonly key: AgentKey;
  readonly tokens: TokenCache;
  /** The fetch to send with (default `globalThis.fetch`; pass one with a TLS dispatcher). */
  readonly fetch?: FetchLike;
  /** For 429 and 503 answers: backoff, and how long a `Retry-After` may ask to wait. */
  readonly retry?: RetryOptions;
  readonly clock?: Clock;
}

/** What a 401's `WWW-Authenticate` asks of the client (RFC 6750 §3, RFC 9449 §7.1, §9). */
const errorCode = (response: Response): string | undefined =>
  /\berror="([^"]*)"/.exec(response.headers.get("www-authenticate") ?? "")?.[1];

/**
 * `fetch` with the agent's token attached: `Authorization: DPoP <token>` and a fresh `DPoP`
 * proof for this method and URL with `ath` (RFC 9449 §7.1) for a bound token, `Bearer`
 * otherwise. Once per request each, it sends again: with the server's nonce after
 * `use_dpop_nonce` (§9), with a new token after `invalid_token` (the cached one was refused),
 * and after a 429 or 503 once the `Retry-After` (RFC 9110 §10.2.3) or a backoff has passed.
 * The request body is read into memory once, so that it can be sent again.
 */
export function createAgentFetch(options: AgentFetchOptions): FetchLike {
  const send = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? systemClock;
  const policy = retryPolicy(options.retry);
  /** The last `DPoP-Nonce` each origin sent (RFC 9449 §8: the client keeps using it). */
  const nonces = new Map<string, string>();

  /** Sends once; `nonceChanged`: the answer carries a nonce other than the one used. */
  const attempt = async (request: Request) => {
    const token = await options.tokens.get();
    const headers = new Headers(request.headers);
    const bound = token.tokenType.toLowerCase() === "dpop";
    headers.set("authorization", `${bound ? "DPoP" : "Bearer"} ${token.accessToken}`);
    const origin = new URL(request.url).origin;
    const sentNonce = nonces.get(origin);
    if (bound) {
      const proof = dpopProof(options.key, {
        htm: request.method,
        htu: htuOf(request.url),
        accessToken: token.accessToken,
        iat: Math.floor(clock.now() / 1000),
        ...(sentNonce !== undefined && { nonce: sentNonce }),
      });
      headers.set("dpop", proof);
    }
    const response = await send(new Request(request, { headers }));
    const nonce = response.headers.get("dpop-nonce");
    if (nonce !== null) nonces.set(origin, nonce);
    return { response, nonceChanged: bound && nonce !== null && nonce !== sentNonce };
  };

  return async (input, init) => {
    const request = new Request(input, init);
    const body = request.body === null ? null : await request.arrayBuffer();
    // A refused answer's body is dropped before the request is sent again.
    const discard = (response: Response) => response.body?.cancel();
    const { url, method, headers, signal, redirect } = request;
    const fresh = () => new Request(url, { method, headers, body, signal, redirect });
    let nonceRetried = false;
    let tokenRetried = false;
    for (let tries = 0; ; tries += 1) {
      const { response, nonceChanged } = await attempt(fresh());
      if (response.status === 401) {
        const code = errorCode(response);
        // §9 names the error `use_dpop_nonce`; a proxy that relays only `invalid_token`
        // still sends the nonce it wants, which is enough to know what to do.
        if (
          nonceChanged &&
          !nonceRetried &&
          (code === "use_dpop_nonce" || code === "invalid_token")
        ) {
          nonceRetried = true;
          await discard(response);
          continue;
        }
        if (code === "invalid_token" && !tokenRetried) {
          tokenRetried = true;
          options.tokens.invalidate();
          await discard(response);
          continue;
        }
        return response;
      }
      if ((response.status !== 429 && response.status !== 503) || tries + 1 >= policy.attempts) {
        return response;
      }
      const wait = parseRetryAfter(response.headers.get("retry-after"), clock.now());
      const delay = backoffDelay(policy, tries, wait);
      if (delay === undefined) return response;
      await discard(response);
      await policy.sleep(delay);
    }
  };
}
