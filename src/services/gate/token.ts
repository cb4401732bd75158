import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { TokenRequest, TokenResponseSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import { signAccessToken } from "../../crypto/jws.js";
import { constantTimeEqual, randomId, sha256Hex } from "../../crypto/random.js";
import { GatehouseError } from "../../errors/index.js";
import { requireActiveAgent, requireWithinPolicy } from "../agents.js";
import type { CallContext } from "../types.js";
import type { GateDeps, PassRecord } from "./deps.js";

/**
 * Redeems a pass, once, for an access token (RFC 9068 JWT). The agent's status and policy
 * are read again here: a suspension or a narrowed policy between challenge and token wins.
 */
export async function issueToken(
  deps: GateDeps,
  request: TokenRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof TokenResponseSchema>> {
  if (request.grant.case !== "pass") {
    throw new GatehouseError(Reason.INVALID_ARGUMENT, { field: "grant" });
  }
  const consumed = await deps.store.passes.consume(sha256Hex(request.grant.value));
  if (consumed.status === "not_found") throw new GatehouseError(Reason.PASS_NOT_FOUND);
  if (consumed.status === "already_used") throw new GatehouseError(Reason.PASS_ALREADY_USED);
  const pass = consumed.value as PassRecord;
  if (!constantTimeEqual(pass.caller, call.caller.fingerprint)) {
    throw new GatehouseError(Reason.PASS_IDENTITY_MISMATCH);
  }
  const nowMs = deps.clock.now();
  if (nowMs > pass.expiresAt) throw new GatehouseError(Reason.PASS_EXPIRED);

  const agent = await requireActiveAgent(deps.store.registry, pass.did);
  requireWithinPolicy(agent.policy, pass.scopes, pass.audience);

  const { defaultTokenTtlSeconds, maxTokenTtlSeconds, issuer } = deps.settings;
  // The policy's max_token_ttl caps the lifetime; it never extends the server default.
  const policyCap = agent.policy.maxTokenTtlSeconds || Number.POSITIVE_INFINITY;
  const ttl = Math.min(defaultTokenTtlSeconds, policyCap, maxTokenTtlSeconds);
  const iat = Math.floor(nowMs / 1000);
  const key = await deps.keys.signingKey();
  const accessToken = await signAccessToken(key, {
    iss: issuer,
    sub: agent.did,
    aud: pass.audience,
    scope: pass.scopes.join(" "),
    operator: agent.operatorDomain,
    iat,
    nbf: iat,
    exp: iat + ttl,
    jti: randomId(),
  });
  return {
    accessToken,
    tokenType: "Bearer",
    expiresAt: timestampFromMs((iat + ttl) * 1000),
    scopes: [...pass.scopes],
    audience: pass.audience,
  };
}
