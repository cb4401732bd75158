import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import type { TokenExchangeGrant } from "../../../../../gen/gatehouse/v1/gate_pb.js";
import { parseCompactJws } from "../../../../crypto/jose/compact.js";
import { GatehouseError } from "../../../../errors/index.js";
import { authorizeScopes } from "../../../../grants/allowance.js";
import { actClaim, MAX_DELEGATION_DEPTH } from "../../../../verify/actors.js";
import { runVerifyPipeline } from "../../../../verify/pipeline.js";
import { requireActiveAgent } from "../../../agents.js";
import type { CallContext } from "../../../types.js";
import type { GateDeps } from "../../deps.js";
import { delegateFor } from "./delegation.js";
import type { FlowOutcome } from "./types.js";

/**
 * Longest exchange lineage (`derived_from`): a token may be re-exchanged this many times
 * over its ancestors. Deeper is DELEGATION_NOT_ALLOWED (the claim stays bounded for Verify).
 */
export const MAX_EXCHANGE_DEPTH = 16;

/**
 * Token exchange (RFC 8693 §2.1): a token this Gatehouse issued becomes a narrower one, for
 * its holder or, by delegation, for another agent to act with.
 *
 * The delegation model is RFC 8693's (§1.1, §4.1): when agent A hands work to agent B, the
 * new token's `sub` stays A (the principal, whose authority it carries), `act` names B (the
 * current actor, earlier actors nested inside), and the token is bound to B's registered
 * key (`cnf.jkt`, RFC 9449 §6), so only B, proving that key, can use it; A, holding the
 * token, cannot. Nobody is ever issued a token whose `sub` is an agent that did not ask for
 * it: the subject of the new token is always the subject of the token presented.
 *
 * - The subject token (§2.1 `subject_token`) is verified by the Verify pipeline itself:
 *   signature with a published key, `iss`, time, revocation and status of its subject and of
 *   every actor. The audience checked is the token's own (the exchange is not addressed to a
 *   resource). A denial surfaces as an RPC error with the pipeline's reason.
 * - The caller must be the token's holder: its current actor when it was delegated, else its
 *   subject (certificate DID, else DID_MISMATCH). A bearer token alone, leaked from a resource
 *   server or a log, must not mint fresh tokens, hand access on or outlive its revocation by
 *   renewal: requiring the holder's mTLS identity keeps the exchange sender-constrained (as
 *   RFC 8705 does for tokens).
 * - A DPoP-bound subject token (`cnf.jkt`, RFC 9449 §6; every delegated token is one) is
 *   exchanged only with a DPoP proof on this token request by that same key (`jkt`, already
 *   verified by the caller of this function): the pipeline's DPoP step compares it with
 *   `cnf.jkt`. Narrowed, the new token is bound to that key again (an exchange never strips a
 *   binding); delegated, to the delegate's key.
 * - Narrowing only (§2.1 `scope`, `audience`): scopes ⊆ the subject token's (else
 *   SCOPE_NOT_ALLOWED); the audience defaults to the subject token's and, if given, must be
 *   one of the subject token's audiences (a new audience needs a login). Both must still be
 *   within the principal's current policy and live grants (a policy narrowed or a grant
 *   revoked since the subject token was issued wins). The delegate's own policy and grants
 *   are never consulted: a delegated token carries at most what its principal holds, and a
 *   grant a human approved for an agent is spent only by it or by actors it named.
 * - Lifetime only shortens: `exp` ≤ the subject token's; `ttl_seconds` is a further cap.
 * - `act` (§4.1): the current actor outermost, prior actors nested. Narrowing keeps the
 *   chain unchanged (an actor cannot shed it by re-exchanging); delegating to D puts D
 *   outermost. Chains deeper than MAX_DELEGATION_DEPTH are refused.
 * - Lineage: the new token lists the subject token's `jti` after the subject's own lineage in
 *   `derived_from`; Verify refuses it once any of them is revoked (TOKEN_REVOKED), so revoking
 *   a token also revokes every token exchanged from it. At most MAX_EXCHANGE_DEPTH.
 * - Delegation to D (delegation.ts): named by the principal's policy `delegates` and, when the
 *   holder is an actor re-delegating, by the holder's too; D active, its operator active, its
 *   key not revoked, and not already in the chain.
 */
export async function exchangeFlow(
  deps: GateDeps,
  grant: TokenExchangeGrant,
  call: CallContext,
  jkt: string | undefined,
): Promise<FlowOutcome> {
  const subjectToken = grant.subjectToken;
  const ownAudience = unverifiedAudience(subjectToken);
  if (ownAudience === undefined) throw new GatehouseError(Reason.TOKEN_MALFORMED);
  const decision = await runVerifyPipeline(
    {
      token: subjectToken,
      audience: ownAudience,
      requiredScopes: [],
      ...(jkt !== undefined && { provenJkt: jkt }),
    },
    deps.verify,
  );
  if (!decision.allowed) throw new GatehouseError(decision.reason);
  const claims = decision.claims;

  // The pipeline tolerates skew on `exp`; an exchange must not mint from a token whose
  // time is up (the new `exp` would not be in the future).
  const now = Math.floor(deps.clock.now() / 1000);
  if (claims.exp <= now) throw new GatehouseError(Reason.TOKEN_EXPIRED);

  // The holder: the current actor of a delegated token, else its subject.
  const actors = claims.actors ?? [];
  const holderDid = actors[0] ?? claims.sub;
  if (call.caller.did === undefined || call.caller.did !== holderDid) {
    throw new GatehouseError(Reason.DID_MISMATCH);
  }

  const scopes = [...new Set(grant.scopes)].sort();
  if (!scopes.every((scope) => claims.scopes.includes(scope))) {
    throw new GatehouseError(Reason.SCOPE_NOT_ALLOWED);
  }
  const audience = grant.audience === "" ? ownAudience : grant.audience;
  if (!claims.aud.includes(audience)) throw new GatehouseError(Reason.AUDIENCE_NOT_ALLOWED);

  const nowMs = deps.clock.now();
  const principal = await requireActiveAgent(deps.store, claims.sub);
  const holder =
    holderDid === principal.did ? principal : await requireActiveAgent(deps.store, holderDid);
  // The principal's authority only: its standing policy and the grants approved for it.
  const authority = await authorizeScopes(deps.store.grants, principal, scopes, audience, nowMs);
  const delegate = await delegateFor(deps.store, grant.delegateDid, {
    principal,
    holder,
    actors,
  });
  const chain = delegate === undefined ? actors : [delegate.did, ...actors];
  if (chain.length > MAX_DELEGATION_DEPTH) {
    throw new GatehouseError(Reason.DELEGATION_NOT_ALLOWED);
  }

  const derivedFrom = [...(claims.derivedFrom ?? []), claims.jti];
  if (derivedFrom.length > MAX_EXCHANGE_DEPTH) {
    throw new GatehouseError(Reason.DELEGATION_NOT_ALLOWED, {
      description: "exchanged too many times",
    });
  }
  const act = actClaim(chain);
  return {
    agent: principal,
    presenter: holder,
    scopes,
    audience,
    notAfter: claims.exp,
    authority,
    derivedFrom,
    ...(grant.ttlSeconds > 0 && { ttlSeconds: grant.ttlSeconds }),
    ...(delegate !== undefined && { delegate }),
    ...(act !== undefined && { act }),
  };
}

/**
 * The subject token's own audience, read before verification only to tell the pipeline
 * which audience to check. Nothing else is trusted from it: the pipeline verifies the
 * signature over these same bytes. Our tokens carry one audience.
 */
function unverifiedAudience(token: string): string | undefined {
  const aud = signedPayload(token)?.aud;
  if (typeof aud === "string" && aud !== "") return aud;
  if (Array.isArray(aud) && typeof aud[0] === "string" && aud[0] !== "") return aud[0];
  return undefined;
}

/** The payload as a JSON object; undefined when not a compact JWS (the one parser's rules). */
function signedPayload(token: string): Record<string, unknown> | undefined {
  if (token.length > 8192) return undefined;
  return parseCompactJws(token)?.payload;
}
