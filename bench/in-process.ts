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
 *   dpop    Verify of a DPoP-bound token, a fresh proof per call (generated before each run),
 *           in IN_PROCESS_ROUNDS (5) rounds alternating with a cached bearer Verify and the raw
 *           node:crypto Ed25519 verify in this process; prints the medians and the DPoP
 *           Verify's decomposition: bearer Verify + raw verify + Gatehouse's own DPoP work
 *   login   Challenge → Submit → Token (signature kind) on Redis (the client's signing included)
 *
 * Env: IN_PROCESS_CALLS (20000; logins: 2000), IN_PROCESS_CONCURRENCY (64; logins: 16),
 * IN_PROCESS_PROFILE (a file: the measured run's V8 CPU profile; dpop: the last round's DPoP run),
 * IN_PROCESS_STORE (`redis`: verify, check and dpop on Redis too, e.g. to see what the DPoP
 * `jti`'s SET NX costs).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ChallengeKind, GateService } from "../gen/gatehouse/v1/gate_pb.js";
import { startGatehouse } from "../src/app/gatehouse.js";
import { signChallenge } from "../src/client/agent-keys.js";
import { createLogger } from "../src/observability/logger.js";
import type { InMemoryConnection } from "../src/server/in-memory.js";
import { startRedisServer } from "../test/support/redis-server.js";
import { benchConfig } from "./config.js";
import { AUDIENCE, createPki, enrollAgents, gateClient, login, SCOPE } from "./enroll.js";
import type { Target } from "./load.js";
import { redisCost, redisProbe } from "./redis-stats.js";
import { ed25519VerifyCpuUs } from "./scenarios/crypto.js";
import { dpopRequests } from "./scenarios/dpop.js";
import { checkTarget, verifyTarget } from "./targets.js";

const MODES = ["verify", "check", "dpop", "login"] as const;
type Mode = (typeof MODES)[number];
const mode = process.argv[2] as Mode;
if (!MODES.includes(mode)) throw new Error(`usage: bench/in-process.ts <${MODES.join("|")}>`);
const calls = Number(process.env.IN_PROCESS_CALLS ?? (mode === "login" ? 2_000 : 20_000));
const concurrency = Number(process.env.IN_PROCESS_CONCURRENCY ?? (mode === "login" ? 16 : 64));

const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-in-process-"));
/** Logins run on Redis; the other modes on the embedded store unless IN_PROCESS_STORE=redis. */
const onRedis = mode === "login" || process.env.IN_PROCESS_STORE === "redis";
const redis = onRedis ? await startRedisServer() : undefined;
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
 * A networked bench target (bench/targets.ts): its bytes each call, or `requests(i)` when
 * given. An answer is checked (decoded) unless it is byte for byte one already found correct,
 * so the measure is the server's work rather than the client's decoding.
 */
function targetWork(
  target: Target,
  requests?: (i: number) => Uint8Array,
): (i: number) => Promise<void> {
  let correct: Buffer | undefined;
  return async (i) => {
    const answer = await invokeRaw(target.path, asVerifier, requests?.(i) ?? target.request);
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
  const token = await loginAs(false);
  const target = (mode === "check" ? checkTarget : verifyTarget)(routeOf(token));
  return targetWork(target);
}

/** A token for the enrolled agent, DPoP-bound (`cnf.jkt`) or bearer. */
async function loginAs(dpop: boolean): Promise<string> {
  const bench = agent as NonNullable<typeof agent>;
  const client = gateClient(`127.0.0.1:${app.grpcPort}`, bench);
  try {
    return await login(client.gate, bench, { dpop });
  } finally {
    client.channel.close();
  }
}

function routeOf(token: string) {
  return { token, audience: AUDIENCE, scope: SCOPE, did: agent?.did ?? "" };
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

/** Rounds of the DPoP mode. */
const rounds = Math.max(1, Number(process.env.IN_PROCESS_ROUNDS ?? 5));
/** Each round's raw Ed25519 loop. */
const RAW_SECONDS = 0.5;

/** CPU per call of one run (after a warm-up when given), profiled when `profile` is set. */
async function measure(
  work: (i: number) => Promise<void>,
  first: number,
  count: number,
  profileFile?: string,
) {
  const session = profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  const result = await run(work, first, count);
  if (session && profileFile) {
    const { profile } = await session.post("Profiler.stop");
    await writeFile(profileFile, JSON.stringify(profile));
  }
  return result;
}

/**
 * DPoP Verify in rounds alternating with a cached bearer Verify and the raw Ed25519 verify,
 * each round's proofs signed right before its DPoP run (fresh `iat`, a new `jti` each, each
 * sent once). The DPoP Verify costs what the bearer Verify costs (decode, caller, the cached
 * token's steps, encode), one Ed25519 verify (the proof's signature), and Gatehouse's own
 * DPoP work (proof parsing, `typ`/`alg`/`jwk`, thumbprint, `htm`/`htu`/`ath`/`iat`, the `jti`
 * in the store): the last is what this mode is for.
 */
async function dpopRounds(): Promise<void> {
  const bearer = targetWork(verifyTarget(routeOf(await loginAs(false))));
  const bound = await loginAs(true);
  const requests = dpopRequests({ ...(agent as NonNullable<typeof agent>), token: bound });
  const perRound = Math.ceil(calls / rounds);
  const proofsFor = (count: number) => Array.from({ length: count }, requests.next);
  let proofs = proofsFor(warmupCalls());
  const dpop = targetWork(verifyTarget(routeOf(bound)), (i) => proofs[i] ?? Buffer.alloc(0));
  await run(bearer, 0, warmupCalls());
  await run(dpop, 0, warmupCalls());
  const figures: { dpop: number; bearer: number; raw: number; own: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    const raw = ed25519VerifyCpuUs(RAW_SECONDS);
    const bearerCost = (await run(bearer, 0, perRound)).cpuUs;
    proofs = proofsFor(perRound);
    const last = round === rounds - 1 ? process.env.IN_PROCESS_PROFILE : undefined;
    const dpopCost = (await measure(dpop, 0, perRound, last)).cpuUs;
    figures.push({ dpop: dpopCost, bearer: bearerCost, raw, own: dpopCost - bearerCost - raw });
    console.log(
      `  round ${round + 1}: DPoP ${dpopCost.toFixed(1)}, bearer ${bearerCost.toFixed(1)}, ` +
        `raw Ed25519 ${raw.toFixed(1)} µs CPU/call`,
    );
  }
  const mid = (pick: (f: (typeof figures)[number]) => number) => {
    const sorted = figures.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  const [dpopUs, bearerUs, rawUs, ownUs] = [
    mid((f) => f.dpop),
    mid((f) => f.bearer),
    mid((f) => f.raw),
    mid((f) => f.own),
  ];
  console.log(
    `dpop: ${rounds} rounds of ${perRound} calls, ${concurrency} at a time, medians: ` +
      `DPoP Verify ${dpopUs.toFixed(1)} µs CPU/call; raw Ed25519 verify ${rawUs.toFixed(1)} µs ` +
      `(raw ÷ DPoP ${mid((f) => f.raw / f.dpop).toFixed(3)})\n` +
      `  = bearer Verify ${bearerUs.toFixed(1)} + raw Ed25519 verify ${rawUs.toFixed(1)} + ` +
      `Gatehouse's own DPoP work ${ownUs.toFixed(1)} µs`,
  );
}

try {
  if (mode === "dpop") {
    await dpopRounds();
  } else {
    const work = await workFor();
    await run(work, 0, warmupCalls());
    const profileFile = process.env.IN_PROCESS_PROFILE;
    const probe = redis ? redisProbe(redis.url) : undefined;
    const before = await probe?.snapshot();
    const { cpuUs, wallUs } = await measure(work, warmupCalls(), calls, profileFile);
    console.log(
      `${mode}: ${calls} calls, ${concurrency} at a time: ${cpuUs.toFixed(1)} µs CPU/call, ` +
        `${wallUs.toFixed(1)} µs wall/call (${Math.round(1e6 / wallUs)}/s)`,
    );
    if (probe && before) {
      const cost = redisCost(before, await probe.snapshot(), calls);
      console.log(`  per call: ${cost.commandsPer} Redis commands in ${cost.readsPer} batches`);
      console.log(`  by command: ${JSON.stringify(cost.byCommandPer)}`);
      await probe.close();
    }
  }
} finally {
  await app.stop();
  await redis?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
