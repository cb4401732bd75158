import { hash } from "node:crypto";
import { sha256Digest } from "./sha256-digest.generated.js";

const DIGEST_BYTES = 32;

/**
 * h_0 = seed, h_{i+1} = SHA-256(h_i) over the raw 32-byte digest; returns h_iterations.
 * Inherently sequential and CPU-bound: the server runs it only on a worker thread.
 *
 * Every round hashes exactly 32 bytes: one compression of one block whose padding is fixed
 * (FIPS 180-4 §5.1.1), which `sha256Digest` (generated, unrolled, the fixed parts folded)
 * computes on eight 32-bit words: no buffer and no call into C++ per round. A round takes
 * about half the time of the looped JavaScript it replaced, a quarter of the one-shot
 * `crypto.hash` per round, and half of Python's `hashlib` (OpenSSL) per round; `npm run
 * bench` (BENCH_ONLY=gates) measures it against hashlib on every run. The unit tests check
 * it against node:crypto and published vectors.
 */
export function iteratedSha256(seed: Uint8Array, iterations: number): Buffer {
  if (iterations === 0) return Buffer.from(seed);
  // A seed of another length: the first round as any SHA-256, then 32-byte rounds.
  const first = seed.length === DIGEST_BYTES ? Buffer.from(seed) : hash("sha256", seed, "buffer");
  const rounds = seed.length === DIGEST_BYTES ? iterations : iterations - 1;
  const words = new Int32Array(DIGEST_BYTES / 4);
  for (let i = 0; i < words.length; i++) words[i] = first.readInt32BE(i * 4);
  for (let round = 0; round < rounds; round++) sha256Digest(words);
  const out = Buffer.alloc(DIGEST_BYTES);
  for (const [i, word] of words.entries()) out.writeInt32BE(word, i * 4);
  return out;
}
