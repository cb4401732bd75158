import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { actorChain } from "../actors.js";
import type { VerifyState } from "../types.js";

const isString = (value: unknown): value is string => typeof value === "string" && value !== "";
const isTime = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/**
 * Claims shape: every claim Gatehouse issues must be present with its type (RFC 9068 §2.2
 * makes iss, exp, aud, sub, iat, jti required). Later steps then compare values only.
 */
export function claimsStep(state: VerifyState): Reason | undefined {
  const { iss, sub, aud, scope, operator, iat, nbf, exp, jti, grants, derived_from, act, cnf } =
    state.payload;
  const audiences = typeof aud === "string" ? [aud] : aud;
  if (!isString(iss) || !isString(sub) || !isString(jti) || !isString(operator)) {
    return Reason.TOKEN_CLAIMS_INVALID;
  }
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every(isString)) {
    return Reason.TOKEN_CLAIMS_INVALID;
  }
  if (typeof scope !== "string" || !isTime(iat) || !isTime(nbf) || !isTime(exp)) {
    return Reason.TOKEN_CLAIMS_INVALID;
  }
  // Optional: the human-approved grants the token relies on (see the grants step).
  if (grants !== undefined && !isIdList(grants)) return Reason.TOKEN_CLAIMS_INVALID;
  // Optional: the tokens it was exchanged from (see the revocation step).
  if (derived_from !== undefined && !isIdList(derived_from)) return Reason.TOKEN_CLAIMS_INVALID;
  // Optional: the delegation chain (RFC 8693 §4.1), whose every actor the status and
  // revocation steps check like `sub`. A delegated token is always bound to its current
  // actor's key (`cnf`, RFC 9449 §6): one without a binding was not issued by this
  // Gatehouse's delegation model and would be a bearer token usable by anyone who saw it.
  const actors = act === undefined ? undefined : actorChain(act);
  if (act !== undefined && (actors === undefined || cnf === undefined)) {
    return Reason.TOKEN_CLAIMS_INVALID;
  }
  state.claims = {
    iss,
    sub,
    aud: audiences,
    scopes: scope.split(" ").filter((s) => s !== ""),
    operator,
    iat,
    nbf,
    exp,
    jti,
    ...(grants !== undefined && { grants }),
    ...(derived_from !== undefined && { derivedFrom: derived_from }),
    ...(actors !== undefined && { actors }),
  };
  return undefined;
}

/** Gatehouse puts at most 16 ids in `grants` and in `derived_from` (bounded by issuance). */
function isIdList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.length <= 16 && value.every(isString);
}
