import { hash } from "node:crypto";

/**
 * h_0 = seed, h_{i+1} = SHA-256(h_i) over the raw 32-byte digest; returns h_iterations.
 * Inherently sequential and CPU-bound: the server runs it only on a worker thread. The one-shot
 * `crypto.hash` costs about two thirds of a `createHash` object per round (measured with 200,000
 * rounds; hash-wasm and @noble/hashes were slower still).
 */
export function iteratedSha256(seed: Uint8Array, iterations: number): Buffer {
  let digest = Buffer.from(seed);
  for (let i = 0; i < iterations; i += 1) digest = hash("sha256", digest, "buffer");
  return digest;
}
