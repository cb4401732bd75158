import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { catalogEntry } from "../../../../src/errors/catalog.js";
import type { VerifyOutcome } from "./outcome.js";
import type { Verifier } from "./verifier.js";

/** A Node HTTP request as Express, Fastify and node:http expose it (structurally). */
export interface IncomingLike {
  readonly method?: string | undefined;
  /** The path and query (Express: `originalUrl` when mounted under a prefix). */
  readonly url?: string | undefined;
  readonly originalUrl?: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface HttpGuardOptions {
  /** The scopes every request must carry. */
  readonly requiredScopes?: readonly string[];
  /**
   * This service's public origin (`https://api.example.com`): a DPoP proof's `htu` is checked
   * against it plus the request path (RFC 9449 §4.3 point 9), never against a Host header.
   */
  readonly publicUrl: string;
}

/** What a refused request is answered with. */
export interface HttpRefusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { readonly error: string; readonly reason: string };
}

const first = (value: string | readonly string[] | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0];

/** `Authorization: Bearer|DPoP <token>` (RFC 6750 §2.1, RFC 9449 §7.1). */
function credentials(request: IncomingLike): { scheme: string; token: string } | undefined {
  const match = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i.exec(
    first(request.headers.authorization) ?? "",
  );
  return match?.[1] && match[2] ? { scheme: match[1], token: match[2] } : undefined;
}

/** Verifies the request's token (and proof) for `options`; a missing token is refused. */
export async function verifyHttpRequest(
  verifier: Verifier,
  request: IncomingLike,
  options: HttpGuardOptions,
): Promise<VerifyOutcome> {
  const presented = credentials(request);
  if (!presented) return { allowed: false, reason: Reason.UNAUTHENTICATED };
  const path = request.originalUrl ?? request.url ?? "/";
  const proof = first(request.headers.dpop);
  return verifier.verify({
    token: presented.token,
    requiredScopes: options.requiredScopes ?? [],
    method: (request.method ?? "GET").toUpperCase(),
    url: new URL(path, options.publicUrl).href,
    ...(proof !== undefined && { dpopProof: proof }),
  });
}

/**
 * The answer to a refused request: the status from Gatehouse's one error catalog, and for
 * 401 and insufficient scope a challenge (RFC 6750 §3; RFC 9449 §7.1 and §9 for DPoP and
 * its nonce). The body names the reason, never the token.
 */
export function httpRefusal(
  outcome: Extract<VerifyOutcome, { allowed: false }>,
  options: HttpGuardOptions,
): HttpRefusal {
  const { reason, dpopNonce } = outcome;
  const entry = catalogEntry(reason);
  const status = statusOf(reason, entry.http);
  const code =
    reason === Reason.DPOP_NONCE_REQUIRED
      ? "use_dpop_nonce"
      : reason === Reason.INSUFFICIENT_SCOPE
        ? "insufficient_scope"
        : reason === Reason.UNAUTHENTICATED
          ? undefined
          : "invalid_token";
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (status === 401 || reason === Reason.INSUFFICIENT_SCOPE) {
    const scheme = reason === Reason.DPOP_NONCE_REQUIRED ? "DPoP" : "Bearer";
    const params = [
      `realm="${options.publicUrl}"`,
      ...(code === undefined ? [] : [`error="${code}"`]),
      ...(options.requiredScopes?.length ? [`scope="${options.requiredScopes.join(" ")}"`] : []),
    ];
    headers["www-authenticate"] = `${scheme} ${params.join(", ")}`;
  }
  if (dpopNonce !== undefined) headers["dpop-nonce"] = dpopNonce;
  return {
    status,
    headers,
    body: { error: entry.message, reason: Reason[reason] ?? String(reason) },
  };
}

/**
 * The statuses a resource server answers a refused credential with: 402 and 429 for envelope
 * refusals, 403 for what the credentials may not do, 503 when it could not decide, and 401
 * for every bad or missing credential (a 400 for a malformed token is a 401 here too).
 */
function statusOf(reason: Reason, catalogStatus: number): 401 | 402 | 403 | 429 | 503 {
  if (reason === Reason.UNAUTHENTICATED) return 401;
  if (catalogStatus === 402 || catalogStatus === 403 || catalogStatus === 429) return catalogStatus;
  return catalogStatus >= 500 ? 503 : 401;
}
