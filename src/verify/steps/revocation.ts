import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { VerifyDeps, VerifyState } from "../types.js";

/**
 * Revocation, all looked up at once (one round trip to Redis, pipelined):
 * - the token by `jti` (RFC 7009 semantics, checked server-side), and every token it was
 *   exchanged from (`derived_from`, RFC 8693): revoking a token revokes what was derived from
 *   it: TOKEN_REVOKED;
 * - the agent's issued-until watermark, set when its key was revoked: tokens issued (`iat`)
 *   at or before it were issued under that key: AGENT_KEY_REVOKED;
 * - the key the token is bound to (`cnf.jkt`, RFC 9449), when that key was revoked as an
 *   agent key: AGENT_KEY_REVOKED.
 */
export async function revocationStep(
  state: VerifyState,
  deps: VerifyDeps,
): Promise<Reason | undefined> {
  const claims = state.claims;
  if (!claims?.jti) return Reason.TOKEN_CLAIMS_INVALID;
  const jkt = boundKey(state.payload.cnf);
  const ancestors = claims.derivedFrom ?? [];
  const [tokenRevoked, issuedUntil, keyRevoked, ...ancestorRevoked] = await Promise.all([
    deps.revocations.isRevoked("token", claims.jti),
    deps.revocations.issuedUntil(claims.sub),
    jkt === undefined ? false : deps.revocations.isRevoked("agent_key", jkt),
    ...ancestors.map((jti) => deps.revocations.isRevoked("token", jti)),
  ]);
  if (tokenRevoked || ancestorRevoked.includes(true)) return Reason.TOKEN_REVOKED;
  if (issuedUntil !== undefined && claims.iat * 1000 <= issuedUntil) {
    return Reason.AGENT_KEY_REVOKED;
  }
  return keyRevoked ? Reason.AGENT_KEY_REVOKED : undefined;
}

/** `cnf.jkt` when it has the shape of an RFC 7638 thumbprint; the DPoP step checks the rest. */
function boundKey(cnf: unknown): string | undefined {
  if (typeof cnf !== "object" || cnf === null) return undefined;
  const jkt = (cnf as { jkt?: unknown }).jkt;
  return typeof jkt === "string" && jkt.length === 43 ? jkt : undefined;
}
