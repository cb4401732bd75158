/**
 * The raw Ed25519 verify rate on one core: node:crypto `verify` in a tight loop in this
 * process, on a real DPoP proof (its signing input and signature), the key already imported.
 * The reference the DPoP Verify rate is compared with.
 */
import { createPublicKey, verify } from "node:crypto";
import { performance } from "node:perf_hooks";
import { dpopProof, generateAgentKey } from "../../src/client/agent-keys.js";

const BATCH = 64;
const WINDOW_MS = 100;

export interface VerifyRate {
  /** Verifications per second over the whole loop. */
  readonly mean: number;
  /** The best 100 ms window: the core's rate when nothing else ran on it. */
  readonly peak: number;
}

/** Ed25519 verifications per second over `seconds`. */
export function ed25519VerifyRate(seconds: number): VerifyRate {
  const key = generateAgentKey();
  const proof = dpopProof(key, {
    htm: "GET",
    htu: "https://api.example.com/orders",
    accessToken: "x".repeat(600),
  });
  const dot = proof.lastIndexOf(".");
  const message = Buffer.from(proof.slice(0, dot), "ascii");
  const signature = Buffer.from(proof.slice(dot + 1), "base64url");
  const publicKey = createPublicKey(key.privateKey);
  let ops = 0;
  let peak = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    const windowStart = now;
    let windowOps = 0;
    while (now - windowStart < WINDOW_MS) {
      for (let i = 0; i < BATCH; i++) {
        if (!verify(null, message, publicKey, signature)) throw new Error("Ed25519 verify failed");
      }
      windowOps += BATCH;
      now = performance.now();
    }
    ops += windowOps;
    peak = Math.max(peak, (windowOps * 1000) / (now - windowStart));
  }
  return { mean: (ops * 1000) / (now - start), peak };
}
