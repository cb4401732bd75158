import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { GatehouseError } from "../../errors/index.js";

/** An RFC 6749 §5.2 error: the code, and the HTTP status and headers it goes with. */
export class OAuthError extends Error {
  constructor(
    readonly code: string,
    readonly status = 400,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code);
  }
}

/**
 * Which grant failed: `client_credentials`, whose assertion authenticates the client (RFC
 * 7523 §3.2: a client JWT that is not valid, or whose subject is not, is `invalid_client`);
 * the JWT-bearer grant, whose assertion is the grant (§3.1: `invalid_grant`); token exchange
 * (RFC 8693 §2.2.2 names a bad subject token `invalid_request`).
 */
export type GrantFamily = "client" | "assertion" | "exchange";

/**
 * What says a client assertion, or the client it names, is not valid: the assertion itself
 * (signature, claims, `jti` reuse), the certificate naming another agent, and an agent, key or
 * operator that is unknown, revoked or suspended.
 */
const CLIENT_NOT_AUTHENTICATED: ReadonlySet<Reason> = new Set([
  Reason.ASSERTION_INVALID,
  Reason.ASSERTION_REPLAYED,
  Reason.DID_MISMATCH,
  Reason.AGENT_NOT_FOUND,
  Reason.AGENT_SUSPENDED,
  Reason.AGENT_REVOKED,
  Reason.AGENT_KEY_REVOKED,
  Reason.OPERATOR_NOT_FOUND,
  Reason.OPERATOR_SUSPENDED,
  Reason.OPERATOR_REVOKED,
]);

/**
 * Gatehouse's refusal as an RFC 6749 §5.2 error (with RFC 8707 §2 `invalid_target`, RFC 9449
 * §5 and §8 `invalid_dpop_proof` and `use_dpop_nonce`). What is left is the grant itself: its
 * assertion, `jti` or agent (RFC 7523 §3.1 `invalid_grant`), or the subject token and the
 * policy over it (RFC 8693 §2.2.2 `invalid_request`).
 */
export function oauthErrorOf(error: GatehouseError, family: GrantFamily): OAuthError {
  if (family === "client" && CLIENT_NOT_AUTHENTICATED.has(error.reason)) return invalidClient();
  switch (error.reason) {
    case Reason.UNAUTHENTICATED:
    case Reason.PERMISSION_DENIED:
    case Reason.FORWARDED_IDENTITY_INVALID:
      return invalidClient();
    case Reason.SCOPE_NOT_ALLOWED:
      return new OAuthError("invalid_scope");
    case Reason.AUDIENCE_NOT_ALLOWED:
      return new OAuthError("invalid_target");
    case Reason.DPOP_NONCE_REQUIRED:
      // RFC 9449 §8: the nonce to use comes in the DPoP-Nonce header.
      return new OAuthError(
        "use_dpop_nonce",
        400,
        error.dpopNonce === "" ? {} : { "dpop-nonce": error.dpopNonce },
      );
    case Reason.DPOP_INVALID:
    case Reason.DPOP_REPLAYED:
    case Reason.TOKEN_BOUND_TO_KEY:
      return new OAuthError("invalid_dpop_proof");
    case Reason.INVALID_ARGUMENT:
      return invalidArgumentOf(error.field);
    case Reason.RATE_LIMITED:
      return new OAuthError("temporarily_unavailable", 429, {
        "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))),
      });
    case Reason.UNAVAILABLE:
      return new OAuthError("temporarily_unavailable", 503);
    case Reason.HTTP_BODY_TOO_LARGE:
      return new OAuthError("invalid_request", 413);
    case Reason.INTERNAL:
      return new OAuthError("server_error", 500);
    default:
      return new OAuthError(family === "exchange" ? "invalid_request" : "invalid_grant");
  }
}

/** A field the contract refused, by the parameter it came from. */
function invalidArgumentOf(field: string): OAuthError {
  if (field === "dpop_proof") return new OAuthError("invalid_dpop_proof");
  if (/^(assertion|exchange)\.scopes/.test(field)) return new OAuthError("invalid_scope");
  if (/^(assertion|exchange)\.audience/.test(field)) return new OAuthError("invalid_target");
  return new OAuthError("invalid_request");
}

/**
 * RFC 6749 §5.2: 401. Its challenge is the token endpoint's to set: it must match the scheme
 * the client tried in `Authorization`, when it tried one (clientChallenge).
 */
export function invalidClient(): OAuthError {
  return new OAuthError("invalid_client", 401);
}

/**
 * The `WWW-Authenticate` of an `invalid_client` answer (RFC 6749 §5.2): `Basic` with a realm
 * (RFC 7617 §2) for a client that tried HTTP Basic, else the Bearer challenge Gatehouse
 * answers with elsewhere.
 */
export function clientChallenge(authorization: string | undefined): string {
  const scheme = authorization?.trimStart().split(/[ \t]/, 1)[0]?.toLowerCase();
  return scheme === "basic"
    ? 'Basic realm="gatehouse", charset="UTF-8"'
    : 'Bearer error="invalid_client"';
}
