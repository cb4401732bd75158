import { Reason, ReasonSchema } from "../../../gen/gatehouse/v1/errors_pb.js";
import { runVerifyPipeline } from "../../verify/pipeline.js";
import type { VerifiedClaims, VerifyDeps } from "../../verify/types.js";
import type { AuthzRequest } from "./request.js";

/** A refusal as the client sees it: HTTP status, RFC 6750 §3 challenge, typed reason. */
export interface Denial {
  readonly allowed: false;
  readonly httpStatus: 401 | 403;
  readonly reason: Reason;
  /** The `WWW-Authenticate` value. */
  readonly challenge: string;
}

export type AuthzDecision = { readonly allowed: true; readonly claims: VerifiedClaims } | Denial;

/** The proto name of a reason (`REASON_TOKEN_EXPIRED`): stable, and never a value. */
export const reasonName = (reason: Reason): string =>
  ReasonSchema.value[reason]?.name ?? "REASON_UNSPECIFIED";

/**
 * The same decision Verify makes, for a token presented the way Envoy forwards it.
 * A DPoP token is refused before anything reads it: accepting it without checking its proof
 * would turn a sender-constrained token into a bearer one (RFC 9449 §7.1).
 */
export async function decide(request: AuthzRequest, deps: VerifyDeps): Promise<AuthzDecision> {
  const { credentials } = request;
  // RFC 6750 §3.1: no error code when the request carries no usable credentials.
  if (credentials.scheme === "none") return deny(401, Reason.UNAUTHENTICATED, "Bearer");
  if (credentials.scheme === "dpop") {
    return deny(401, Reason.UNAUTHENTICATED, invalidToken("DPoP proofs are not supported yet"));
  }
  const decision = await runVerifyPipeline(
    {
      token: credentials.token,
      audience: request.audience,
      requiredScopes: request.requiredScopes,
    },
    deps,
  );
  if (decision.allowed) return { allowed: true, claims: decision.claims };
  const { reason } = decision;
  if (reason === Reason.INSUFFICIENT_SCOPE) {
    // RFC 6750 §3.1 insufficient_scope → 403, with the scope the route needs (§3).
    const scope = request.requiredScopes.join(" ");
    const challenge = `Bearer error="insufficient_scope", error_description="${reasonName(reason)}", scope="${scope}"`;
    return deny(403, reason, challenge);
  }
  // RFC 6750 §3.1 invalid_token → 401: "expired, revoked, malformed, or invalid for other
  // reasons", which here includes a suspended or revoked agent or operator.
  return deny(401, reason, invalidToken(reasonName(reason)));
}

/** Descriptions are fixed ASCII text without quotes (RFC 6750 §3 error_description syntax). */
const invalidToken = (description: string) =>
  `Bearer error="invalid_token", error_description="${description}"`;

const deny = (httpStatus: 401 | 403, reason: Reason, challenge: string): Denial => ({
  allowed: false,
  httpStatus,
  reason,
  challenge,
});
