import { createHash } from "node:crypto";

/**
 * Solvers for the compute challenge kinds, written from the proto's description of each
 * puzzle independently of the server's checks (src/challenges/), so the tests check one
 * against the other.
 */

/** Iterated hash: h_0 = seed, h_{i+1} = SHA-256(h_i); returns h_N in lowercase hex. */
export function solveIteratedHash(seedHex: string, iterations: number): string {
  let digest = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i += 1) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex");
}

/** Hashcash: whether the leading `bits` (1..32) of SHA-256(prefix ":" nonce) are zero. */
export function meetsHashcash(prefix: string, nonce: string, bits: number): boolean {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) {
    throw new RangeError("hashcash difficulty must be 1..32 bits");
  }
  const head = createHash("sha256").update(`${prefix}:${nonce}`).digest().readUInt32BE(0);
  return head >>> (32 - bits) === 0;
}

/** Brute force: the first decimal nonce that solves the challenge (2^bits tries expected). */
export function solveHashcash(prefix: string, bits: number): string {
  for (let nonce = 0; ; nonce += 1) {
    if (meetsHashcash(prefix, String(nonce), bits)) return String(nonce);
  }
}
