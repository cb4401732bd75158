import { hash } from "node:crypto";

/** FIPS 180-4 §4.2.2: the SHA-256 round constants. */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
/** FIPS 180-4 §5.3.3: the initial hash value. */
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const DIGEST_BYTES = 32;

/**
 * h_0 = seed, h_{i+1} = SHA-256(h_i) over the raw 32-byte digest; returns h_iterations.
 * Inherently sequential and CPU-bound: the server runs it only on a worker thread.
 *
 * Every round hashes exactly 32 bytes, so every round is one compression of one block whose
 * padding is fixed (FIPS 180-4 §5.1.1: the 0x80 byte, zeros, the length 256). The loop below
 * keeps the digest as eight 32-bit words (locals) from one round to the next: no buffer, no
 * call into C++ per round, and the padding words of the schedule are written once. It takes
 * about a third of the time of the one-shot `crypto.hash` per round (a C++ call and a Buffer
 * each) and less than Python's `hashlib`; `npm run bench` (BENCH_ONLY=gates) measures it
 * against hashlib on every run. The unit tests check it against node:crypto and published
 * vectors.
 */
export function iteratedSha256(seed: Uint8Array, iterations: number): Buffer {
  if (iterations === 0) return Buffer.from(seed);
  // A seed of another length: the first round as any SHA-256, then 32-byte rounds.
  const first = seed.length === DIGEST_BYTES ? Buffer.from(seed) : hash("sha256", seed, "buffer");
  const rounds = seed.length === DIGEST_BYTES ? iterations : iterations - 1;
  // The message schedule. Words 8..15 are the fixed padding (FIPS 180-4 §5.1.1: the 0x80
  // byte, zeros, the length in bits), written once; 0..7 take each round's input.
  const w = new Int32Array(64);
  w[8] = 0x80000000 | 0;
  w[15] = DIGEST_BYTES * 8;
  let h0 = first.readInt32BE(0);
  let h1 = first.readInt32BE(4);
  let h2 = first.readInt32BE(8);
  let h3 = first.readInt32BE(12);
  let h4 = first.readInt32BE(16);
  let h5 = first.readInt32BE(20);
  let h6 = first.readInt32BE(24);
  let h7 = first.readInt32BE(28);
  for (let round = 0; round < rounds; round++) {
    w[0] = h0;
    w[1] = h1;
    w[2] = h2;
    w[3] = h3;
    w[4] = h4;
    w[5] = h5;
    w[6] = h6;
    w[7] = h7;
    // FIPS 180-4 §6.2.2 step 1: the rest of the schedule.
    for (let i = 16; i < 64; i++) {
      const w15 = w[i - 15] as number;
      const w2 = w[i - 2] as number;
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
    }
    // Steps 2-3: 64 rounds from the initial hash value (every message is one block).
    let a = IV[0] as number;
    let b = IV[1] as number;
    let c = IV[2] as number;
    let d = IV[3] as number;
    let e = IV[4] as number;
    let f = IV[5] as number;
    let g = IV[6] as number;
    let h = IV[7] as number;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + s1 + ch + (K[i] as number) + (w[i] as number)) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + s0 + maj) | 0;
    }
    // Step 4: the digest, which is the next round's input.
    h0 = ((IV[0] as number) + a) | 0;
    h1 = ((IV[1] as number) + b) | 0;
    h2 = ((IV[2] as number) + c) | 0;
    h3 = ((IV[3] as number) + d) | 0;
    h4 = ((IV[4] as number) + e) | 0;
    h5 = ((IV[5] as number) + f) | 0;
    h6 = ((IV[6] as number) + g) | 0;
    h7 = ((IV[7] as number) + h) | 0;
  }
  const out = Buffer.alloc(DIGEST_BYTES);
  for (const [i, word] of [h0, h1, h2, h3, h4, h5, h6, h7].entries()) {
    out.writeInt32BE(word, i * 4);
  }
  return out;
}
