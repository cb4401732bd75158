/**
 * The gate's other paths, on grpc-js in this process with `loginAgents` agents (a connection
 * and one operation in flight each), the server on Redis:
 *   pair:<kind>   Challenge → (solve in this process) → Submit, for every challenge kind; a
 *                 pass for the agent counts. Iterated hash at N = 1,000 and hashcash at 8 bits
 *                 (bench/config.ts), so the client's solving stays small beside the server's
 *                 check; reasoning solved by the test suite's reference solvers.
 *   assertion     the one-RPC JWT-bearer grant (RFC 7523): Token with a fresh assertion.
 * Server CPU per correct answer is the figure that does not depend on the client's core.
 * Also the iterated-hash check per round against Python's hashlib over the same 1,000 rounds,
 * alternating in this process (bench/scenarios/iterated-hash.ts).
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import { jwtBearerAssertion, signChallenge } from "../../src/client/agent-keys.js";
import { solveHashcash, solveIteratedHash } from "../../test/support/compute-solvers.js";
import { SOLVERS } from "../../test/support/reasoning-solvers/index.js";
import { runTasks, type Task } from "../async-load.js";
import { AUDIENCE, type BenchAgent, type GateClient, gateClient, SCOPE } from "../enroll.js";
import { BENCH_ISSUER } from "../protocol.js";
import { type Summary, summarize } from "../report.js";
import type { Settings } from "../settings.js";
import type { ServerProcess } from "../spawn-server.js";
import { tokenProblem } from "./login.js";

type Answer = Parameters<GateClient["submit"]>[0]["answer"];

const KINDS = {
  signature: ChallengeKind.SIGNATURE,
  reasoning: ChallengeKind.REASONING,
  "iterated-hash": ChallengeKind.ITERATED_HASH,
  hashcash: ChallengeKind.HASHCASH,
} as const;
/** The reasoning kind's minimum plausible runtime (config runtime.reasoningMinMs, default). */
const REASONING_RUNTIME_MS = 50;

export async function measureGatePairs(
  settings: Settings,
  server: ServerProcess,
  address: string,
  agents: readonly BenchAgent[],
): Promise<Record<string, Summary>> {
  const clients = agents.map((agent) => ({ agent, ...gateClient(address, agent) }));
  const results: Record<string, Summary> = {};
  const measure = async (task: Task) => {
    const concurrency = clients.length;
    await runTasks(task, { concurrency, durationMs: settings.warmupSeconds * 1000 });
    const before = await server.usage({ collectFirst: true });
    const result = await runTasks(task, { concurrency, durationMs: settings.seconds * 1000 });
    return summarize(result, concurrency, before, await server.usage());
  };
  const client = (slot: number) => {
    const found = clients[slot];
    if (!found) throw new Error(`no agent for slot ${slot}`);
    return found;
  };
  try {
    for (const [name, kind] of Object.entries(KINDS)) {
      results[`pair:${name}`] = await measure(async (slot) => {
        const { gate, agent } = client(slot);
        const { passToken: pass } = await gate.submit(await solved(gate, agent, kind));
        return pass === "" ? "no pass" : undefined;
      });
    }
    results.assertion = await measure(async (slot) => {
      const { gate, agent } = client(slot);
      const assertion = await jwtBearerAssertion(agent.key, {
        did: agent.did,
        audience: BENCH_ISSUER,
        lifetimeSeconds: 60,
      });
      const { accessToken } = await gate.token({
        grant: { case: "assertion", value: { assertion, scopes: [SCOPE], audience: AUDIENCE } },
      });
      return tokenProblem(accessToken, agent.did);
    });
  } finally {
    for (const { channel } of clients) channel.close();
  }
  return results;
}

/** A Submit request answering a fresh challenge of `kind` for `agent`. */
async function solved(gate: GateClient, agent: BenchAgent, kind: ChallengeKind) {
  const scopes = [SCOPE];
  const challenge = await gate.challenge({ did: agent.did, kind, scopes, audience: AUDIENCE });
  const { challengeId, body } = challenge;
  let answer: Answer;
  let runtimeMs = 0;
  switch (body.case) {
    case "signature": {
      if (!challenge.expiresAt) throw new Error("a signature challenge without expiry");
      const signature = signChallenge(agent.key, body.value, {
        challengeId,
        did: agent.did,
        scopes,
        audience: AUDIENCE,
        expiresAtMs: timestampMs(challenge.expiresAt),
      });
      answer = { case: "signature", value: { signature } };
      break;
    }
    case "reasoning": {
      const solve = SOLVERS[body.value.family as keyof typeof SOLVERS];
      answer = { case: "reasoning", value: { answer: solve(body.value.prompt) } };
      runtimeMs = REASONING_RUNTIME_MS;
      break;
    }
    case "iteratedHash":
      answer = {
        case: "iteratedHash",
        value: { digest: solveIteratedHash(body.value.seed, body.value.iterations) },
      };
      break;
    case "hashcash":
      answer = {
        case: "hashcash",
        value: { nonce: solveHashcash(body.value.prefix, body.value.difficultyBits) },
      };
      break;
    default:
      throw new Error(`unexpected challenge body ${body.case}`);
  }
  return { challengeId, answer, runtimeMs };
}
