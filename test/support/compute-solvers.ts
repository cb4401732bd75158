import { createHash } from "node:crypto";
import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import { AUDIENCE, type Enrolled, type GateLike } from "./flows.js";
import { rememberSecret } from "./secrets.js";

/**
 * Client-side solvers for the compute challenge kinds, written independently of the
 * server's code (src/challenges/) so the tests check one against the other.
 */

/** h_0 = seed, h_{i+1} = SHA-256(h_i); returns h_N in lowercase hex. */
export function solveIteratedHash(seedHex: string, iterations: number): string {
  let digest = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i += 1) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex");
}

/** Leading `bits` (1..32) of SHA-256(prefix:nonce) are zero. */
function meets(prefix: string, nonce: string, bits: number): boolean {
  if (bits < 1 || bits > 32) throw new Error("test solver handles 1..32 bits");
  const head = createHash("sha256").update(`${prefix}:${nonce}`).digest().readUInt32BE(0);
  return head >>> (32 - bits) === 0;
}

/** Brute force: the first decimal nonce that solves the challenge. */
export function solveHashcash(prefix: string, bits: number): string {
  for (let nonce = 0; ; nonce += 1) if (meets(prefix, String(nonce), bits)) return String(nonce);
}

/** A nonce that does *not* solve it (for refusal tests). */
export function wrongHashcashNonce(prefix: string, bits: number): string {
  for (let nonce = 0; ; nonce += 1) if (!meets(prefix, `x${nonce}`, bits)) return `x${nonce}`;
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
