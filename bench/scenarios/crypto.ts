/**
 * The raw Ed25519 verify cost on one core: node:crypto `verify` in a tight loop in this
 * process, on a real DPoP proof (its signing input and signature), the key already imported.
 * The reference the DPoP Verify rate and CPU per call are compared with.
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

/** One verification of a real proof's signature, as node:crypto does it with no checks around. */
function rawVerifier(): () => void {
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
  return () => {
    if (!verify(null, message, publicKey, signature)) throw new Error("Ed25519 verify failed");
  };
}

/** Ed25519 verifications per second over `seconds`. */
export function ed25519VerifyRate(seconds: number): VerifyRate {
  const once = rawVerifier();
  let ops = 0;
  let peak = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    const windowStart = now;
    let windowOps = 0;
    while (now - windowStart < WINDOW_MS) {
      for (let i = 0; i < BATCH; i++) once();
      windowOps += BATCH;
      now = performance.now();
    }
    ops += windowOps;
    peak = Math.max(peak, (windowOps * 1000) / (now - windowStart));
  }
  return { mean: (ops * 1000) / (now - start), peak };
}

/**
 * CPU µs per raw Ed25519 verify over `seconds` (this process's user + system time, so time
 * the core spent on other processes is not counted): the figure to set beside a server's
 * CPU per call, stable on a loaded machine where a rate is not.
 */
export function ed25519VerifyCpuUs(seconds: number): number {
  const once = rawVerifier();
  once(); // the key's first use is not a verification's cost
  let ops = 0;
  const cpu = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < BATCH; i++) once();
    ops += BATCH;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / ops;
}
