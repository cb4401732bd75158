import { createHash } from "node:crypto";

/**
 * h_0 = seed, h_{i+1} = SHA-256(h_i) over the raw 32-byte digest; returns h_iterations.
 * Inherently sequential and CPU-bound: the server runs it only on a worker thread.
 */
export function iteratedSha256(seed: Uint8Array, iterations: number): Buffer {
  let digest = Buffer.from(seed);
  for (let i = 0; i < iterations; i += 1) digest = createHash("sha256").update(digest).digest();
  return digest;
}
