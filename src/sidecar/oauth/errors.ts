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

/** Which grant failed: RFC 8693 §2.2.2 names a bad subject token `invalid_request`. */
export type GrantFamily = "assertion" | "exchange";

/**
 * Gatehouse's refusal as an RFC 6749 §5.2 error (with RFC 8707 §2 `invalid_target`, RFC 9449
 * §5 and §8 `invalid_dpop_proof` and `use_dpop_nonce`). What is left is the grant itself: its
 * assertion, `jti` or agent (RFC 7523 §3.1 `invalid_grant`), or the subject token and the
 * policy over it (RFC 8693 §2.2.2 `invalid_request`).
 */
export function oauthErrorOf(error: GatehouseError, family: GrantFamily): OAuthError {
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

/** RFC 6749 §5.2: 401 with a challenge naming the scheme. */
export function invalidClient(): OAuthError {
  return new OAuthError("invalid_client", 401, {
    "www-authenticate": 'Bearer error="invalid_client"',
  });
}
