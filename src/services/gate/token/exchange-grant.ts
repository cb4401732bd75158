import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { TokenExchangeGrant } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { agentDidDomain } from "../../../crypto/did.js";
import { parseCompactJws } from "../../../crypto/jose/compact.js";
import type { ActorClaim } from "../../../crypto/jws.js";
import { GatehouseError } from "../../../errors/index.js";
import { authorizeScopes } from "../../../grants/scopes.js";
import type { PolicyRecord } from "../../../store/ports.js";
import { runVerifyPipeline } from "../../../verify/pipeline.js";
import { requireActiveAgent } from "../../agents.js";
import type { CallContext } from "../../types.js";
import type { GateDeps } from "../deps.js";
import type { GrantOutcome } from "./types.js";

/**
 * Longest delegation chain: the number of `act` levels the new token may carry
 * (RFC 8693 §4.1 nesting). Deeper is DELEGATION_NOT_ALLOWED.
 */
export const MAX_DELEGATION_DEPTH = 4;

/**
 * Longest exchange lineage (`derived_from`): a token may be re-exchanged this many times
 * over its ancestors. Deeper is DELEGATION_NOT_ALLOWED (the claim stays bounded for Verify).
 */
export const MAX_EXCHANGE_DEPTH = 16;

/**
 * Token exchange (RFC 8693 §2.1): a token this Gatehouse issued becomes a narrower one,
 * for the same agent or for a sub-agent it may delegate to.
 *
 * - The subject token (§2.1 `subject_token`) is verified by the Verify pipeline itself:
 *   signature with a published key, `iss`, time, revocation, agent and operator status. The
 *   audience checked is the token's own (the exchange is not addressed to a resource). A
 *   denial surfaces as an RPC error with the pipeline's reason (e.g. TOKEN_REVOKED).
 * - The caller must be the subject token's agent (certificate DID = `sub`). A bearer token
 *   alone, leaked from a resource server or a log, must not mint fresh tokens, hand access
 *   to other agents or outlive its own revocation by renewal; requiring the agent's mTLS
 *   identity as well keeps the exchange sender-constrained (as RFC 8705 does for tokens).
 * - A DPoP-bound subject token (`cnf.jkt`, RFC 9449 §6) is exchanged only with a DPoP proof
 *   on this token request by that same key (`jkt`, already verified by the caller of this
 *   function): the pipeline's DPoP step compares it with `cnf.jkt`, and the new token is
 *   bound to it again, so an exchange never strips the binding into a bearer token. A bound
 *   token cannot be delegated (TOKEN_BOUND_TO_KEY): the delegate cannot prove the key, and
 *   the token it would get could not be bound to its own key without its own proof.
 * - Narrowing only (§2.1 `scope`, `audience`): scopes ⊆ the subject token's scopes (else
 *   SCOPE_NOT_ALLOWED); the audience defaults to the subject token's and, if given, must be
 *   one of the subject token's audiences (an exchange never reaches a new resource; a new
 *   audience needs a login). Both must also be within the current policy of the agent the
 *   token is issued to and, when delegating, of the delegator: a policy narrowed since the
 *   subject token was issued wins.
 * - Lifetime only shortens: `exp` ≤ the subject token's; `ttl_seconds` is a further cap.
 * - `act` (§4.1): the current actor outermost, prior actors nested. In Gatehouse the new
 *   token's `sub` is the agent that presents it, and `act` records on whose behalf it acts:
 *   delegating to D a token of S gives `sub` = D, `act` = { sub: S, act: <S's token `act`> }.
 *   Narrowing one's own token adds no actor and keeps the chain unchanged (a delegate
 *   cannot shed the chain by re-exchanging). Chains deeper than MAX_DELEGATION_DEPTH are
 *   refused.
 * - Lineage: the new token lists the subject token's `jti` after the subject's own lineage in
 *   `derived_from`; Verify refuses it once any of them is revoked (TOKEN_REVOKED), so revoking
 *   a token also revokes every token exchanged from it. At most MAX_EXCHANGE_DEPTH.
 * - Delegation: the subject agent's policy `delegates` must name D (exact DID, or
 *   `did:agent:<domain>:*` for D's domain), and D must be active.
 */
export async function exchangeGrant(
  deps: GateDeps,
  grant: TokenExchangeGrant,
  call: CallContext,
  jkt: string | undefined,
): Promise<GrantOutcome> {
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

  if (call.caller.did === undefined || call.caller.did !== claims.sub) {
    throw new GatehouseError(Reason.DID_MISMATCH);
  }

  // The signature is verified: the payload's other claims can be read now.
  const payload = signedPayload(subjectToken);
  if (!payload) throw new GatehouseError(Reason.TOKEN_CLAIMS_INVALID);
  const priorAct = payload.act === undefined ? undefined : actorClaim(payload.act, 0);
  if (payload.act !== undefined && priorAct === undefined) {
    throw new GatehouseError(Reason.TOKEN_CLAIMS_INVALID);
  }

  const scopes = [...new Set(grant.scopes)].sort();
  if (!scopes.every((scope) => claims.scopes.includes(scope))) {
    throw new GatehouseError(Reason.SCOPE_NOT_ALLOWED);
  }
  const audience = grant.audience === "" ? ownAudience : grant.audience;
  if (!claims.aud.includes(audience)) throw new GatehouseError(Reason.AUDIENCE_NOT_ALLOWED);

  const nowMs = deps.clock.now();
  const subjectAgent = await requireActiveAgent(deps.store, claims.sub);
  let authority = await authorizeScopes(deps.store.grants, subjectAgent, scopes, audience, nowMs);

  const delegate = grant.delegateDid;
  let agent = subjectAgent;
  let act = priorAct;
  if (delegate !== "" && delegate !== subjectAgent.did) {
    if (payload.cnf !== undefined) throw new GatehouseError(Reason.TOKEN_BOUND_TO_KEY);
    if (!delegationAllowed(subjectAgent.policy, delegate)) {
      throw new GatehouseError(Reason.DELEGATION_NOT_ALLOWED);
    }
    act = priorAct ? { sub: subjectAgent.did, act: priorAct } : { sub: subjectAgent.did };
    if (actorDepth(act) > MAX_DELEGATION_DEPTH) {
      throw new GatehouseError(Reason.DELEGATION_NOT_ALLOWED);
    }
    agent = await requireActiveAgent(deps.store, delegate);
    authority = await authorizeScopes(deps.store.grants, agent, scopes, audience, nowMs);
  }

  const derivedFrom = [...(claims.derivedFrom ?? []), claims.jti];
  if (derivedFrom.length > MAX_EXCHANGE_DEPTH) {
    throw new GatehouseError(Reason.DELEGATION_NOT_ALLOWED, {
      description: "exchanged too many times",
    });
  }
  return {
    agent,
    scopes,
    audience,
    notAfter: claims.exp,
    authority,
    derivedFrom,
    ...(grant.ttlSeconds > 0 && { ttlSeconds: grant.ttlSeconds }),
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

/** RFC 8693 §4.1 `act`, checked: `sub` a string, nested `act` likewise, bounded depth. */
function actorClaim(value: unknown, depth: number): ActorClaim | undefined {
  if (depth >= MAX_DELEGATION_DEPTH) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { sub, act } = value as Record<string, unknown>;
  if (typeof sub !== "string" || sub === "") return undefined;
  if (act === undefined) return { sub };
  const nested = actorClaim(act, depth + 1);
  return nested ? { sub, act: nested } : undefined;
}

function actorDepth(act: ActorClaim | undefined): number {
  let depth = 0;
  for (let level = act; level !== undefined; level = level.act) depth += 1;
  return depth;
}

/** Policy `delegates`: the exact DID, or `did:agent:<domain>:*` for the delegate's domain. */
function delegationAllowed(policy: PolicyRecord, delegate: string): boolean {
  const allowed = policy.delegates ?? [];
  if (allowed.includes(delegate)) return true;
  const domain = agentDidDomain(delegate);
  return domain !== undefined && allowed.includes(`did:agent:${domain}:*`);
}
