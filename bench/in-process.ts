/**
 * `npx tsx bench/in-process.ts <verify|check|dpop|login>`: Gatehouse's own CPU per call, without
 * sockets, TLS or HTTP/2. The server starts in this process; its composed methods are called
 * through the in-memory transport (src/server/in-memory.ts: bytes in, bytes out, the peer
 * certificate of a verifier or of the agent), so what is measured is decode → caller →
 * policy → validation → service → encode, and the store. Far less noisy than `npm run bench`
 * on a busy machine: use it to compare two versions of the hot paths, then confirm with
 * `npm run bench`.
 *
 *   verify  Verify of one cached bearer token
 *   check   ext_authz Check of the same token, the CheckRequest built as Envoy builds it with
 *           infra/envoy/envoy.yaml (bench/targets.ts)
 *   dpop    Verify of a DPoP-bound token, a fresh proof per call (generated beforehand)
 *   login   Challenge → Submit → Token (signature kind) on Redis (the client's signing included)
 *
 * Env: IN_PROCESS_CALLS (20000; logins: 2000), IN_PROCESS_CONCURRENCY (64; logins: 16),
 * IN_PROCESS_PROFILE (a file: the measured run's V8 CPU profile).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ChallengeKind, GateService } from "../gen/gatehouse/v1/gate_pb.js";
import { type VerifyRequestSchema, VerifyService } from "../gen/gatehouse/v1/verify_pb.js";
import { startGatehouse } from "../src/app/gatehouse.js";
import { dpopProof, signChallenge } from "../src/client/agent-keys.js";
import { createLogger } from "../src/observability/logger.js";
import type { InMemoryConnection } from "../src/server/in-memory.js";
import { startRedisServer } from "../test/support/redis-server.js";
import { benchConfig } from "./config.js";
import { AUDIENCE, createPki, enrollAgents, gateClient, login, SCOPE } from "./enroll.js";
import type { Target } from "./load.js";
import { checkTarget, verifyTarget } from "./targets.js";

const MODES = ["verify", "check", "dpop", "login"] as const;
type Mode = (typeof MODES)[number];
const mode = process.argv[2] as Mode;
if (!MODES.includes(mode)) throw new Error(`usage: bench/in-process.ts <${MODES.join("|")}>`);
const calls = Number(process.env.IN_PROCESS_CALLS ?? (mode === "login" ? 2_000 : 20_000));
const concurrency = Number(process.env.IN_PROCESS_CONCURRENCY ?? (mode === "login" ? 16 : 64));

const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-in-process-"));
const redis = mode === "login" ? await startRedisServer() : undefined;
const pki = await createPki(dataDir);
const app = await startGatehouse({
  config: benchConfig(dataDir, redis?.url),
  logger: createLogger("silent"),
});

const memory = app.composed.inMemory();

/** One call of the RPC at `path`, with request bytes as they came off the wire. */
function invokeRaw(path: string, peer: InMemoryConnection, request: Uint8Array) {
  return peer
    .callBinary(path, request)
    .then((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * A networked bench target (bench/targets.ts): the same bytes each call. An answer is checked
 * (decoded) unless it is byte for byte one already found correct, so the measure is the
 * server's work rather than the client's decoding.
 */
function targetWork(target: Target): () => Promise<void> {
  let correct: Buffer | undefined;
  return async () => {
    const answer = await invokeRaw(target.path, asVerifier, target.request);
    if (correct?.equals(answer)) return;
    const problem = target.check(answer);
    if (problem) throw new Error(problem);
    correct = answer;
  };
}

const [agent] = await enrollAgents(pki, `127.0.0.1:${app.grpcPort}`, 1);
if (!agent) throw new Error("no agent enrolled");
const asVerifier = memory.connect({ certificate: pki.verifier.certPem });
const asAgent = memory.connect({ certificate: agent.tls.cert });

async function verifyOnce(init: MessageInitShape<typeof VerifyRequestSchema>): Promise<void> {
  const answer = await asVerifier.call(VerifyService.method.verify, init);
  if (!answer.allowed || answer.agentDid !== agent?.did)
    throw new Error(`denied: ${answer.reason}`);
}

async function loginOnce(): Promise<void> {
  if (!agent) return;
  const { did, key } = agent;
  const scopes = [SCOPE];
  const challenge = await asAgent.call(GateService.method.challenge, {
    did,
    kind: ChallengeKind.SIGNATURE,
    scopes,
    audience: AUDIENCE,
  });
  if (challenge.body.case !== "signature" || !challenge.expiresAt) throw new Error("no challenge");
  const signature = signChallenge(key, challenge.body.value, {
    challengeId: challenge.challengeId,
    did,
    scopes,
    audience: AUDIENCE,
    expiresAtMs: timestampMs(challenge.expiresAt),
  });
  const { passToken: pass } = await asAgent.call(GateService.method.submit, {
    challengeId: challenge.challengeId,
    answer: { case: "signature", value: { signature } },
  });
  const token = await asAgent.call(GateService.method.token, {
    grant: { case: "passToken", value: pass },
  });
  if (!token.accessToken) throw new Error("no token");
}

async function workFor(): Promise<(i: number) => Promise<void>> {
  if (mode === "login") return loginOnce;
  const client = gateClient(`127.0.0.1:${app.grpcPort}`, agent as NonNullable<typeof agent>);
  const token = await login(client.gate, agent as NonNullable<typeof agent>, {
    dpop: mode === "dpop",
  });
  client.channel.close();
  const route = { token, audience: AUDIENCE, scope: SCOPE, did: agent?.did ?? "" };
  if (mode === "verify" || mode === "check") {
    return targetWork(mode === "verify" ? verifyTarget(route) : checkTarget(route));
  }
  const base = { token, audience: AUDIENCE, requiredScopes: [SCOPE] };
  const request = { htm: "GET", htu: "https://api.example.com/orders" };
  // Fresh proofs (RFC 9449 §11.1: each jti once), made before anything is measured.
  const proofs = Array.from({ length: calls + warmupCalls() }, () =>
    dpopProof((agent as NonNullable<typeof agent>).key, { ...request, accessToken: token }),
  );
  return (i) =>
    verifyOnce({
      ...base,
      httpMethod: request.htm,
      httpUrl: request.htu,
      dpopProof: proofs[i] ?? "",
    });
}

function warmupCalls(): number {
  return Math.min(calls, mode === "login" ? 500 : 2_000);
}

/** `count` calls, `concurrency` at a time; CPU and wall time per call, µs. */
async function run(work: (i: number) => Promise<void>, first: number, count: number) {
  let next = first;
  const end = first + count;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < end) await work(next++);
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    cpuUs: (used.user + used.system) / count,
    wallUs: ((performance.now() - start) * 1000) / count,
  };
}

try {
  const work = await workFor();
  await run(work, 0, warmupCalls());
  const profileFile = process.env.IN_PROCESS_PROFILE;
  const session = profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  const { cpuUs, wallUs } = await run(work, warmupCalls(), calls);
  if (session && profileFile) {
    const { profile } = await session.post("Profiler.stop");
    await writeFile(profileFile, JSON.stringify(profile));
  }
  console.log(
    `${mode}: ${calls} calls, ${concurrency} at a time: ${cpuUs.toFixed(1)} µs CPU/call, ` +
      `${wallUs.toFixed(1)} µs wall/call (${Math.round(1e6 / wallUs)}/s)`,
  );
} finally {
  await app.stop();
  await redis?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
