import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TokenResponseSchema } from "../../../../gen/gatehouse/v1/gate_pb.js";
import { AuditEventType, agentEvent } from "../../../audit/events.js";
import { signAccessToken } from "../../../crypto/jws.js";
import { randomId } from "../../../crypto/random.js";
import type { Caller } from "../../../identity/caller.js";
import type { GateDeps } from "../deps.js";
import type { FlowOutcome } from "./flows/types.js";

export interface Binding {
  /** RFC 9449 §6.1 thumbprint of the key the token is bound to; absent = bearer token. */
  readonly jkt?: string;
}

/**
 * Signs the access token a flow established (RFC 9068 §2.2 claims). The lifetime is the
 * shortest of: the server default, the policy's cap, the server maximum, what the flow
 * asked for, and (token exchange) the subject token's remaining life.
 */
export async function issueAccessToken(
  deps: GateDeps,
  outcome: FlowOutcome,
  binding: Binding,
  caller: Caller,
): Promise<MessageInitShape<typeof TokenResponseSchema>> {
  const { defaultTokenTtlSeconds, maxTokenTtlSeconds, issuer } = deps.settings;
  const iat = Math.floor(deps.clock.now() / 1000);
  // The policy's max_token_ttl caps the lifetime; it never extends the server default.
  const policyCap = outcome.agent.policy.maxTokenTtlSeconds || Number.POSITIVE_INFINITY;
  const ttl = Math.min(
    outcome.ttlSeconds ?? defaultTokenTtlSeconds,
    defaultTokenTtlSeconds,
    policyCap,
    maxTokenTtlSeconds,
  );
  // A token never outlives the subject token it was exchanged for, nor a capability grant it
  // relies on.
  const grantsEnd = outcome.authority.notAfterMs ?? Number.POSITIVE_INFINITY;
  const exp = Math.min(
    iat + ttl,
    outcome.notAfter ?? Number.POSITIVE_INFINITY,
    Math.floor(grantsEnd / 1000),
  );
  const key = await deps.keys.signingKey();
  const jti = randomId();
  const accessToken = await signAccessToken(key, {
    iss: issuer,
    sub: outcome.agent.did,
    aud: outcome.audience,
    scope: outcome.scopes.join(" "),
    operator: outcome.agent.operatorDomain,
    iat,
    nbf: iat,
    exp,
    jti,
    ...(binding.jkt !== undefined && { cnf: { jkt: binding.jkt } }),
    ...(outcome.act !== undefined && { act: outcome.act }),
    ...(outcome.authority.grantIds.length > 0 && { grants: [...outcome.authority.grantIds] }),
    ...(outcome.derivedFrom !== undefined && { derived_from: [...outcome.derivedFrom] }),
  });
  // Whom the token belongs to, for as long as it can verify (exp plus the tolerated skew),
  // so Revoke lets only its owner's operator revoke it. Sent with the audit append: on Redis
  // one more SET, not one more round trip.
  const { did: sub, operatorDomain } = outcome.agent;
  const liveMs = exp * 1000 - deps.clock.now() + deps.settings.clockSkewSeconds * 1000;
  await Promise.all([
    deps.store.issuedTokens.record(jti, { sub, operatorDomain, exp }, Math.max(1, liveMs)),
    deps.audit.record(
      agentEvent(AuditEventType.TOKEN_ISSUED, caller, outcome.agent, {
        tokenId: jti,
        scopes: [...outcome.scopes],
        audiences: [outcome.audience],
      }),
    ),
  ]);
  return {
    accessToken,
    tokenType: binding.jkt === undefined ? "Bearer" : "DPoP",
    expiresAt: timestampFromMs(exp * 1000),
    scopes: [...outcome.scopes],
    audience: outcome.audience,
  };
}
