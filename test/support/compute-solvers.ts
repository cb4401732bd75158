import {
  meetsHashcash,
  solveHashcash,
  solveIteratedHash,
} from "../../clients/typescript/src/agent/compute.js";
import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import { AUDIENCE, type Enrolled, type GateLike } from "./flows.js";
import { rememberSecret } from "./secrets.js";

// The solvers are the SDK's (clients/typescript/src/agent/compute.ts), written independently
// of the server's checks so these tests check one against the other.
export { solveHashcash, solveIteratedHash };

/** A nonce that does *not* solve it (for refusal tests). */
export function wrongHashcashNonce(prefix: string, bits: number): string {
  for (let nonce = 0; ; nonce += 1)
    if (!meetsHashcash(prefix, `x${nonce}`, bits)) return `x${nonce}`;
}

const request = (agent: Enrolled, kind: ChallengeKind, scopes: string[]) => ({
  did: agent.did,
  kind,
  scopes,
  audience: AUDIENCE,
});

/** Asks for an iterated-hash challenge and computes its answer in this process. */
export async function solvedIteratedHash(
  gate: Pick<GateLike, "challenge">,
  agent: Enrolled,
  scopes: string[] = ["orders:read"],
) {
  const challenge = await gate.challenge(request(agent, ChallengeKind.ITERATED_HASH, scopes));
  if (challenge.body.case !== "iteratedHash") throw new Error("expected an iterated hash");
  const { seed, iterations } = challenge.body.value;
  const digest = solveIteratedHash(seed, iterations);
  rememberSecret(challenge.challengeId, seed, digest);
  return { challengeId: challenge.challengeId, seed, iterations, digest };
}

/** Asks for a hashcash challenge and brute-forces a nonce in this process. */
export async function solvedHashcash(
  gate: Pick<GateLike, "challenge">,
  agent: Enrolled,
  scopes: string[] = ["orders:read"],
) {
  const challenge = await gate.challenge(request(agent, ChallengeKind.HASHCASH, scopes));
  if (challenge.body.case !== "hashcash") throw new Error("expected a hashcash challenge");
  const { prefix, difficultyBits } = challenge.body.value;
  // The nonce is a short counter: too common a string to scan the logs for.
  rememberSecret(challenge.challengeId, prefix);
  return {
    challengeId: challenge.challengeId,
    prefix,
    difficultyBits,
    nonce: solveHashcash(prefix, difficultyBits),
  };
}
