import type { ActorClaim } from "../crypto/jws.js";

/**
 * Longest delegation chain: the number of `act` levels a token may carry (RFC 8693 §4.1
 * nesting). Issuance refuses deeper chains (DELEGATION_NOT_ALLOWED); Verify refuses a token
 * that carries one (TOKEN_CLAIMS_INVALID).
 */
export const MAX_DELEGATION_DEPTH = 4;

/**
 * RFC 8693 §4.1 `act` as the list of its actors' DIDs, the current actor (outermost) first.
 * Undefined when the claim is not a chain of objects each with a non-empty string `sub`, or
 * nests deeper than MAX_DELEGATION_DEPTH. Other members of an actor object are ignored, as
 * §4.1 allows (Gatehouse issues none).
 */
export function actorChain(act: unknown): string[] | undefined {
  const actors: string[] = [];
  for (let level = act; level !== undefined; ) {
    if (actors.length >= MAX_DELEGATION_DEPTH) return undefined;
    if (typeof level !== "object" || level === null || Array.isArray(level)) return undefined;
    const { sub, act: prior } = level as Record<string, unknown>;
    if (typeof sub !== "string" || sub === "") return undefined;
    actors.push(sub);
    level = prior;
  }
  return actors;
}

/** The `act` claim for a list of actors, the current one first; undefined for none. */
export function actClaim(actors: readonly string[]): ActorClaim | undefined {
  let act: ActorClaim | undefined;
  for (let i = actors.length - 1; i >= 0; i--) {
    const sub = actors[i] as string;
    act = act === undefined ? { sub } : { sub, act };
  }
  return act;
}
