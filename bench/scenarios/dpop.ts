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
import { round, type Summary } from "../report.js";
import { verifyGoCheck } from "../targets.js";
import { ed25519VerifyCpuUs } from "./crypto.js";
import { roundContext } from "./interleaved.js";
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

/** Rounds of the alternating DPoP runs (measureDpopRounds). */
export const DPOP_ROUNDS = 4;
/** Each round: the raw loop, then the empty RPC, bearer Verify and DPoP Verify runs. */
export const DPOP_ROUND_RUNS = 3;
const RAW_SECONDS = 1;

/**
 * Server CPU µs per call of one round's runs, net of the server's idle CPU (timers, health,
 * metrics: about 1 % of a core per process, which at the few hundred calls/s of a loaded host
 * would add 100 µs or more to each call), and the raw verify's CPU µs in this process.
 */
export interface DpopRound {
  /** The server's CPU µs per second while idle (measured during the raw loop). */
  readonly idle: number;
  readonly raw: number;
  readonly empty: number;
  readonly bearer: number;
  readonly dpop: number;
}

export interface DpopRounds {
  readonly rounds: readonly DpopRound[];
  /** Each figure's median over the rounds. */
  readonly median: DpopRound;
  /** Median over the rounds of raw ÷ DPoP: DPoP Verifies per server core ÷ raw verifies per core. */
  readonly ratio: number;
  /** Median over the rounds of raw ÷ (empty RPC + raw): the most the ratio can be on this transport. */
  readonly bound: number;
}

/**
 * The DPoP target measured so that a loaded machine does not move it: in each round the raw
 * Ed25519 verify's CPU per call in this process (the bench client is idle meanwhile), then
 * the server CPU per call of the empty RPC, of a cached bearer Verify and of a DPoP Verify,
 * in short runs one after the other, each net of the server's idle CPU (measured while the
 * raw loop runs here). A round's ratio is raw ÷ DPoP (DPoP Verifies per server
 * core ÷ raw verifies per core); the figure is the median. The empty RPC bounds it: a DPoP
 * Verify costs at least the transport's call plus one verify, so raw ÷ (empty + raw) is the
 * most any DPoP Verify could reach over this transport.
 */
export async function measureDpopRounds(
  context: RpcContext,
  agent: { key: AgentKey; did: string; token: string },
  empty: Target,
  bearer: Target,
): Promise<DpopRounds> {
  const short = roundContext(context);
  // Only correct answers count: a round with an error (or proofs run out) fails the bench.
  const correct = (name: string, summary: Summary) => {
    if (summary.errors > 0 || summary.requestsExhausted) {
      throw new Error(`DPoP round: ${summary.errors} errors in the ${name} run, or too few proofs`);
    }
    return summary;
  };
  const rounds: DpopRound[] = [];
  for (let i = 0; i < DPOP_ROUNDS; i++) {
    // The server has nothing to do while this process runs its raw loop.
    const before = await context.server.usage();
    const start = performance.now();
    const raw = ed25519VerifyCpuUs(RAW_SECONDS);
    const after = await context.server.usage();
    const idle = ((after.cpuMicros - before.cpuMicros) * 1000) / (performance.now() - start);
    const net = (summary: Summary) =>
      round(summary.serverCpuUsPerCall - idle / Math.max(1, summary.rps), 1);
    const emptyRun = correct(empty.name, await measureRpc(empty, short));
    const bearerRun = correct(bearer.name, await measureRpc(bearer, short));
    const dpopRun = correct("dpop", (await measureDpop(short, agent, bearerRun.rps)).summary);
    rounds.push({
      idle: round(idle, 0),
      raw: round(raw, 1),
      empty: net(emptyRun),
      bearer: net(bearerRun),
      dpop: net(dpopRun),
    });
  }
  const mid = (pick: (r: DpopRound) => number) => median(rounds.map(pick));
  return {
    rounds,
    median: {
      idle: mid((r) => r.idle),
      raw: mid((r) => r.raw),
      empty: mid((r) => r.empty),
      bearer: mid((r) => r.bearer),
      dpop: mid((r) => r.dpop),
    },
    ratio: round(
      mid((r) => r.raw / r.dpop),
      3,
    ),
    bound: round(
      mid((r) => r.raw / (r.empty + r.raw)),
      3,
    ),
  };
}

/** The report's lines for measureDpopRounds. */
export function dpopRoundLines(figures: DpopRounds): string[] {
  const { idle, raw, empty, bearer, dpop } = figures.median;
  const rest = dpop - bearer - raw;
  return [
    `DPoP Verify, ${figures.rounds.length} alternating rounds (server CPU per call net of its ` +
      `idle ${idle} µs/s, median): ` +
      `${dpop} µs = empty RPC ${empty} + bearer Verify's own ${round(bearer - empty, 1)} + ` +
      `raw Ed25519 verify ${raw} + the rest ${round(rest, 1)} (proof parsing and checks, ` +
      "the jti's store call, the larger request; split in-process: bench/in-process.ts dpop)",
    `  raw ÷ DPoP per server core: ${figures.ratio} (rounds ` +
      `${figures.rounds.map((r) => round(r.raw / r.dpop, 3)).join(", ")}); at most ` +
      `${figures.bound} over this transport (raw ÷ (empty RPC + raw), nothing else done)`,
  ];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
