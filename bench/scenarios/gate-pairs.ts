/**
 * The gate's other paths, on grpc-js in this process with `loginAgents` agents (a connection
 * and one operation in flight each), the server on Redis:
 *   pair:<kind>   Challenge → (solve in this process) → Submit, for every challenge kind; a
 *                 pass for the agent counts. Iterated hash at N = 1,000 and hashcash at 8 bits
 *                 (bench/config.ts), so the client's solving stays small beside the server's
 *                 check; reasoning solved by the test suite's reference solvers.
 *   assertion     the one-RPC JWT-bearer grant (RFC 7523): Token with a fresh assertion, on
 *                 bench/loadgen (its assertion mode) when the Go generator is in use: grpc-js
 *                 and jose in this process cost about as much CPU per grant as the server.
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
import type { GoLoadgen } from "../go-load.js";
import { BENCH_ISSUER } from "../protocol.js";
import { type Summary, summarize } from "../report.js";
import type { Settings } from "../settings.js";
import type { ServerProcess } from "../spawn-server.js";
import { measureGoGrants, tokenProblem } from "./login.js";

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
  go: GoLoadgen | undefined,
): Promise<Record<string, Summary>> {
  const clients = agents.map((agent) => ({ agent, ...gateClient(address, agent) }));
  const results: Record<string, Summary> = {};
  try {
    for (const [name, kind] of Object.entries(KINDS)) {
      results[`pair:${name}`] = await measureTasks(settings, server, clients, async (client) => {
        const { gate, agent } = client;
        const { passToken: pass } = await gate.submit(await solved(gate, agent, kind));
        return pass === "" ? "no pass" : undefined;
      });
    }
  } finally {
    for (const { channel } of clients) channel.close();
  }
  results.assertion = await measureAssertions(settings, server, address, agents, go);
  return results;
}

/**
 * The one-RPC grant for every agent, one in flight each: on bench/loadgen when the Go
 * generator is in use, otherwise on grpc-js in this process. Also what the assertion floor
 * (bench/login-floor.ts, onFloor) is measured with.
 */
export async function measureAssertions(
  settings: Settings,
  server: ServerProcess,
  address: string,
  agents: readonly BenchAgent[],
  go: GoLoadgen | undefined,
): Promise<Summary> {
  if (go) return measureGoGrants(settings, server, address, agents, go, { grant: "assertion" });
  const clients = agents.map((agent) => ({ agent, ...gateClient(address, agent) }));
  try {
    return await measureTasks(settings, server, clients, assertionGrant);
  } finally {
    for (const { channel } of clients) channel.close();
  }
}

interface AgentClient {
  readonly gate: GateClient;
  readonly agent: BenchAgent;
}

/** `task` for each client, one in flight each: warm-up, then the measured run's figures. */
async function measureTasks(
  settings: Settings,
  server: ServerProcess,
  clients: readonly AgentClient[],
  task: (client: AgentClient) => Promise<string | undefined>,
): Promise<Summary> {
  const run: Task = (slot) => {
    const client = clients[slot];
    if (!client) throw new Error(`no agent for slot ${slot}`);
    return task(client);
  };
  const concurrency = clients.length;
  await runTasks(run, { concurrency, durationMs: settings.warmupSeconds * 1000 });
  const before = await server.usage({ collectFirst: true });
  const result = await runTasks(run, { concurrency, durationMs: settings.seconds * 1000 });
  return summarize(result, concurrency, before, await server.usage());
}

/** Token with a fresh RFC 7523 assertion; undefined when a token for the agent came back. */
async function assertionGrant({ gate, agent }: AgentClient): Promise<string | undefined> {
  const assertion = await jwtBearerAssertion(agent.key, {
    did: agent.did,
    audience: BENCH_ISSUER,
    lifetimeSeconds: 60,
  });
  const { accessToken } = await gate.token({
    grant: { case: "assertion", value: { assertion, scopes: [SCOPE], audience: AUDIENCE } },
  });
  return tokenProblem(accessToken, agent.did);
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
