import { Reason, ReasonSchema } from "../../../gen/gatehouse/v1/errors_pb.js";
import { DPOP_ALGS } from "../../dpop/index.js";
import { runVerifyPipeline, type VerifyDecision } from "../../verify/pipeline.js";
import type { VerifiedClaims, VerifyDeps } from "../../verify/types.js";
import type { AuthzRequest } from "./request.js";

/** A refusal as the client sees it: HTTP status, RFC 6750 §3 challenge, typed reason. */
export interface Denial {
  readonly allowed: false;
  readonly httpStatus: 400 | 401 | 402 | 403 | 429;
  readonly reason: Reason;
  /** The `WWW-Authenticate` value; empty when the refusal is not about credentials. */
  readonly challenge: string;
  /** RFC 9449 §9: the `DPoP-Nonce` the client's next proof must carry. */
  readonly dpopNonce?: string;
  /** The token's claims when its signature verified (for the audit log only). */
  readonly claims?: VerifiedClaims;
}

export type AuthzDecision = { readonly allowed: true; readonly claims: VerifiedClaims } | Denial;

/** The proto name of a reason (`REASON_TOKEN_EXPIRED`): stable, and never a value. */
export const reasonName = (reason: Reason): string =>
  ReasonSchema.value[reason]?.name ?? "REASON_UNSPECIFIED";

/** Envelope and budget refusals (Policy.envelope), with the HTTP status each maps to. */
const ENVELOPE_STATUS: ReadonlyMap<Reason, 402 | 403 | 429> = new Map([
  [Reason.ENVELOPE_EXCEEDED, 429],
  [Reason.OUTSIDE_ALLOWED_TIME, 403],
  [Reason.TRANSACTION_LIMIT_EXCEEDED, 402],
  [Reason.BUDGET_EXCEEDED, 402],
  [Reason.CURRENCY_MISMATCH, 402],
  [Reason.AGENT_FROZEN, 403],
  [Reason.GRANT_REVOKED, 403],
]);

/** Reasons about the proof rather than the token: `invalid_dpop_proof` (RFC 9449 §7.1). */
const PROOF_REASONS: ReadonlySet<Reason> = new Set([Reason.DPOP_INVALID, Reason.DPOP_REPLAYED]);

/**
 * The same decision Verify makes, for a token presented the way Envoy forwards it. Under the
 * DPoP scheme (RFC 9449 §7.1) the `DPoP` header, method and `scheme://host path` go to the
 * pipeline's DPoP step; under Bearer no proof does, so a key-bound token is refused as a
 * downgrade (§7.2, TOKEN_BOUND_TO_KEY).
 */
export function decide(
  request: AuthzRequest,
  deps: VerifyDeps,
): AuthzDecision | Promise<AuthzDecision> {
  const { credentials } = request;
  // RFC 6750 §3.1: no error code when the request carries no usable credentials.
  if (credentials.scheme === "none") return deny(401, Reason.UNAUTHENTICATED, "Bearer");
  if (request.amount === "malformed") return deny(400, Reason.INVALID_ARGUMENT, "");
  const dpop = credentials.scheme === "dpop";
  const verdict = runVerifyPipeline(
    {
      token: credentials.token,
      audience: request.audience,
      requiredScopes: request.requiredScopes,
      ...(dpop && {
        dpopProof: request.dpopProof,
        httpMethod: request.method,
        httpUrl: request.url,
      }),
      ...(request.amount !== undefined && { amount: request.amount }),
    },
    deps,
  );
  // A cached token is decided synchronously: no promise (and no microtask) then.
  return verdict instanceof Promise
    ? verdict.then((decision) => outcome(decision, request, dpop, deps))
    : outcome(verdict, request, dpop, deps);
}

function outcome(
  decision: VerifyDecision,
  request: AuthzRequest,
  dpop: boolean,
  deps: VerifyDeps,
): AuthzDecision {
  if (decision.allowed) return { allowed: true, claims: decision.claims };
  const denial = refusal(decision.reason, request, dpop, deps);
  return decision.claims ? { ...denial, claims: decision.claims } : denial;
}

/** How a refusal is told to the client (RFC 6750 §3, RFC 9449 §7.1 and §9). */
function refusal(reason: Reason, request: AuthzRequest, dpop: boolean, deps: VerifyDeps): Denial {
  // The envelope refuses what the agent does, not its credentials: no challenge, and the
  // status the catalog gives (402 for amounts and budgets, 429 for the request rate, 403).
  const envelopeStatus = ENVELOPE_STATUS.get(reason);
  if (envelopeStatus !== undefined) return deny(envelopeStatus, reason, "");
  if (reason === Reason.DPOP_NONCE_REQUIRED) {
    // RFC 9449 §9: 401, `use_dpop_nonce`, and the nonce in a DPoP-Nonce header.
    const nonce = deps.dpop.nonce() ?? "";
    const challenge = dpopChallenge("use_dpop_nonce", reasonName(reason));
    return { ...deny(401, reason, challenge), dpopNonce: nonce };
  }
  if (PROOF_REASONS.has(reason)) {
    return deny(401, reason, dpopChallenge("invalid_dpop_proof", reasonName(reason)));
  }
  if (reason === Reason.TOKEN_BOUND_TO_KEY || (dpop && reason !== Reason.INSUFFICIENT_SCOPE)) {
    // RFC 9449 §7.1: a DPoP challenge tells the client which scheme and algorithms to use.
    return deny(401, reason, dpopChallenge("invalid_token", reasonName(reason)));
  }
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

/** RFC 9449 §7.1 challenge, with the accepted proof algorithms (`algs`). */
const dpopChallenge = (error: string, description: string) =>
  `DPoP error="${error}", error_description="${description}", algs="${DPOP_ALGS.join(" ")}"`;

const deny = (httpStatus: Denial["httpStatus"], reason: Reason, challenge: string): Denial => ({
  allowed: false,
  httpStatus,
  reason,
  challenge,
});
