import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { allKnown, resolvedWith } from "../settled.js";
import type { VerifiedClaims, VerifyDeps, VerifyState } from "../types.js";

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
export function revocationStep(
  state: VerifyState,
  deps: VerifyDeps,
): Reason | undefined | Promise<Reason | undefined> {
  const claims = state.claims;
  if (!claims?.jti) return Reason.TOKEN_CLAIMS_INVALID;
  const jkt = boundKey(state.payload.cnf);
  const { revocations } = deps;
  const lookups: Lookups<Promise<boolean>, Promise<number | undefined>> = [
    revocations.isRevoked("token", claims.jti),
    revocations.issuedUntil(claims.sub),
    jkt === undefined ? NOT_REVOKED : revocations.isRevoked("agent_key", jkt),
  ];
  for (const jti of claims.derivedFrom ?? NO_ANCESTORS) {
    lookups.push(revocations.isRevoked("token", jti));
  }
  // Synchronous when every answer is cached (cache.ts): a cached Verify waits for nothing.
  const answers = allKnown<Lookups<boolean, number | undefined>>(lookups);
  return answers instanceof Promise
    ? answers.then((values) => judge(claims, values))
    : judge(claims, answers);
}

/** The token, the issued-until watermark, the bound key, then each ancestor token. */
type Lookups<Revoked, IssuedUntil> = [Revoked, IssuedUntil, Revoked, ...Revoked[]];

const NOT_REVOKED = resolvedWith(false);
const NO_ANCESTORS: readonly string[] = [];

function judge(
  claims: VerifiedClaims,
  [tokenRevoked, issuedUntil, keyRevoked, ...ancestorRevoked]: Lookups<boolean, number | undefined>,
): Reason | undefined {
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
