/**
 * Verify of a DPoP-bound token with a FRESH proof per request (RFC 9449 §4.3: unique `jti`,
 * `iat` within the server's 60 s window, `ath` of the token). Proofs are generated in this
 * process right before each phase, sized from the previous phase's rate, so generating them
 * costs the client nothing while measured; if a phase runs out, the rest are made inline
 * (counted, and visible as client CPU). With the Go generator the phase's proofs go to it as
 * a file of distinct requests, each sent once; it cannot make more, so running out ends the
 * phase early (reported).
 */
import { performance } from "node:perf_hooks";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { VerifyRequestSchema, VerifyResponseSchema } from "../../gen/gatehouse/v1/verify_pb.js";
import { type AgentKey, dpopProof } from "../../src/client/agent-keys.js";
import { AUDIENCE, SCOPE } from "../enroll.js";
import type { Target } from "../load.js";
import type { Summary } from "../report.js";
import { verifyGoCheck } from "../targets.js";
import { measureRpc, type RpcContext } from "./rpc.js";

const HTM = "GET";
const HTU = "https://api.example.com/orders";
/** The proof window is 60 s (dpop.maxAgeSeconds); a phase must end well inside it. */
export const MAX_DPOP_PHASE_SECONDS = 45;
/** The warm-up's guess when nothing has been measured yet; too low only means inline proofs. */
const FIRST_GUESS_RPS = 3_000;

export interface ProofStats {
  /** Proofs generated before the measured phase, and how fast (proofs/s, one core). */
  readonly pregenerated: number;
  readonly generationRate: number;
  /** Proofs the measured phase had to make on the fly (grpc-js generator). */
  readonly inline: number;
  /** Go generator (each proof sent once, none made on the fly): they ran out before the end. */
  readonly exhausted: boolean;
}

class ProofPool {
  private queue: Buffer[] = [];
  private next = 0;
  inline = 0;

  constructor(private readonly make: () => Buffer) {}

  /** Replaces what is left (older proofs) with `count` new ones; returns proofs/s. */
  fill(count: number): number {
    const start = performance.now();
    this.queue = Array.from({ length: count }, this.make);
    this.next = 0;
    this.inline = 0;
    return (count * 1000) / Math.max(1, performance.now() - start);
  }

  /** Everything left, each to be sent once (the Go generator); the pool is empty after. */
  drain(): readonly Buffer[] {
    const rest = this.queue.slice(this.next);
    this.queue = [];
    this.next = 0;
    return rest;
  }

  take(): Buffer {
    const request = this.queue[this.next];
    if (request === undefined) {
      this.inline += 1;
      return this.make();
    }
    this.next += 1;
    return request;
  }
}

/**
 * Verify requests of a DPoP-bound token, serialized: `next()` signs a fresh proof (a new
 * `jti`, `iat` now) into a new request each call; `check` accepts only an allowed answer for
 * the agent.
 */
export function dpopRequests(agent: { key: AgentKey; did: string; token: string }): {
  next: () => Buffer;
  check: (bytes: Buffer) => string | undefined;
} {
  const base = toBinary(
    VerifyRequestSchema,
    create(VerifyRequestSchema, {
      token: agent.token,
      audience: AUDIENCE,
      requiredScopes: [SCOPE],
      httpMethod: HTM,
      httpUrl: HTU,
    }),
  );
  return {
    // Fields may come in any order on the wire: the proof (field 4) is appended to the rest.
    next: () => {
      const proof = dpopProof(agent.key, { htm: HTM, htu: HTU, accessToken: agent.token });
      const field = new BinaryWriter().tag(4, WireType.LengthDelimited).string(proof).finish();
      return Buffer.concat([base, field]);
    },
    check: (bytes) => {
      const response = fromBinary(VerifyResponseSchema, bytes);
      if (!response.allowed) return `denied: ${Reason[response.reason] ?? response.reason}`;
      return response.agentDid === agent.did ? undefined : "allowed, but for another agent";
    },
  };
}

export async function measureDpop(
  context: RpcContext,
  agent: { key: AgentKey; did: string; token: string },
  bearerRps: number | undefined,
): Promise<{ summary: Summary; proofs: ProofStats }> {
  const { seconds, warmupSeconds } = context.settings;
  if (Math.max(seconds, warmupSeconds) > MAX_DPOP_PHASE_SECONDS) {
    throw new Error(`the dpop run needs BENCH_SECONDS ≤ ${MAX_DPOP_PHASE_SECONDS} (60 s proofs)`);
  }
  const requests = dpopRequests(agent);
  const pool = new ProofPool(requests.next);
  const target: Target = {
    name: "dpop",
    path: "/gatehouse.v1.VerifyService/Verify",
    request: Buffer.alloc(0),
    next: () => pool.take(),
    check: requests.check,
    goCheck: verifyGoCheck(agent.did),
    bodies: () => pool.drain(),
  };
  let proofs = { pregenerated: 0, generationRate: 0 };
  const summary = await measureRpc(target, context, (phase, warmup) => {
    if (phase === "warmup") {
      pool.fill(Math.ceil((bearerRps ?? FIRST_GUESS_RPS) * warmupSeconds * 1.2));
      return;
    }
    const rps = warmup ? (warmup.sent * 1000) / Math.max(1, warmup.elapsedMs) : FIRST_GUESS_RPS;
    // Generous: the measured rate can beat a warm-up still warming (proofs are cheap to make).
    const count = Math.ceil(rps * seconds * 2.5) + context.settings.concurrency * 2;
    proofs = { pregenerated: count, generationRate: Math.round(pool.fill(count)) };
  });
  return {
    summary,
    proofs: { ...proofs, inline: pool.inline, exhausted: summary.requestsExhausted === true },
  };
}
