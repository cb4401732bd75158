import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { Pending } from "../lookup-cache.js";
import type { VerifiedClaims, VerifyDeps, VerifyState } from "../types.js";

/**
 * Revocation, all looked up at once (one round trip to Redis, pipelined):
 * - the token by `jti` (RFC 7009 semantics, checked server-side), and every token it was
 *   exchanged from (`derived_from`, RFC 8693): revoking a token revokes what was derived from
 *   it: TOKEN_REVOKED;
 * - the issued-until watermark of every principal of the token (its subject and each actor
 *   of its delegation chain, RFC 8693 §4.1), set when that agent's key was revoked: a token
 *   issued (`iat`) at or before it was issued while that key was trusted: AGENT_KEY_REVOKED;
 * - the key the token is bound to (`cnf.jkt`, RFC 9449; a delegated token's current actor's
 *   key), when that key was revoked as an agent key: AGENT_KEY_REVOKED.
 */
export function revocationStep(
  state: VerifyState,
  deps: VerifyDeps,
): Reason | undefined | Promise<Reason | undefined> {
  const claims = state.claims;
  if (!claims?.jti) return Reason.TOKEN_CLAIMS_INVALID;
  const jkt = boundKey(state.payload.cnf);
  const { revocations } = deps;
  const { nowMs } = state;
  const boundKeyRevoked =
    jkt === undefined ? false : revocations.isRevoked("agent_key", jkt, nowMs);
  const tokenRevoked = revocations.isRevoked("token", claims.jti, nowMs);
  // The usual token has no ancestors and no actors: its three answers in one small array.
  const answers: Pending<Answer>[] =
    claims.derivedFrom === undefined && claims.actors === undefined
      ? [boundKeyRevoked, tokenRevoked, revocations.issuedUntil(claims.sub, nowMs)]
      : chainAnswers(claims, revocations, nowMs, [boundKeyRevoked, tokenRevoked]);
  // Synchronous when every answer is cached (cache.ts): a cached Verify waits for nothing.
  return answers.some(isPromise)
    ? Promise.all(answers).then((values) => judge(claims, values))
    : judge(claims, answers as Answer[]);
}

/** The answers of a token with ancestors or actors, after the bound key's and the token's. */
function chainAnswers(
  claims: VerifiedClaims,
  revocations: VerifyDeps["revocations"],
  nowMs: number,
  answers: Pending<Answer>[],
): Pending<Answer>[] {
  for (const jti of claims.derivedFrom ?? NONE) {
    answers.push(revocations.isRevoked("token", jti, nowMs));
  }
  answers.push(revocations.issuedUntil(claims.sub, nowMs));
  for (const did of claims.actors ?? NONE) answers.push(revocations.issuedUntil(did, nowMs));
  return answers;
}

/**
 * In order: the bound key's revocation, then the token's and each ancestor's (booleans),
 * then each principal's watermark (a number, or undefined for none).
 */
type Answer = boolean | number | undefined;

const NONE: readonly string[] = [];

const isPromise = (answer: Pending<Answer>): answer is Promise<Answer> => answer instanceof Promise;

/** Reads the answers in place (no copies: a cached Verify allocates little). */
function judge(claims: VerifiedClaims, answers: readonly Answer[]): Reason | undefined {
  const tokens = 1 + (claims.derivedFrom?.length ?? 0);
  for (let i = 1; i <= tokens; i++) if (answers[i] === true) return Reason.TOKEN_REVOKED;
  const issuedAt = claims.iat * 1000;
  for (let i = tokens + 1; i < answers.length; i++) {
    const until = answers[i];
    if (typeof until === "number" && issuedAt <= until) return Reason.AGENT_KEY_REVOKED;
  }
  return answers[0] === true ? Reason.AGENT_KEY_REVOKED : undefined;
}

/** `cnf.jkt` when it has the shape of an RFC 7638 thumbprint; the DPoP step checks the rest. */
function boundKey(cnf: unknown): string | undefined {
  if (typeof cnf !== "object" || cnf === null) return undefined;
  const jkt = (cnf as { jkt?: unknown }).jkt;
  return typeof jkt === "string" && jkt.length === 43 ? jkt : undefined;
}
