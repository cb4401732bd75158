/**
 * `npm run bench`: every figure of the verification work, in one run on one machine, over gRPC
 * with mutual TLS, each server in its own process (bench/server.ts):
 *   verify      the empty-RPC ceiling (grpc.health Check), then Verify of a bearer token
 *   latency     the same two with 1 and then 8 calls in flight (LATENCY_IN_FLIGHT): how the
 *               tail grows with the load, next to the runs at BENCH_CONCURRENCY
 *   connect     Verify of the same token over Connect JSON (HTTP/2, node:http2 client in this
 *               process) at 1, 8 and BENCH_CONCURRENCY in flight, next to gRPC Verify at the
 *               same: throughput and server CPU per call
 *   dpop        Verify of a DPoP-bound token with a fresh proof per request, next to the raw
 *               node:crypto Ed25519 verify rate on one core (measured here, before and after);
 *               then alternating rounds of the raw verify's CPU, the empty RPC, bearer Verify
 *               and DPoP Verify (server CPU per call): the target's figure and its bound
 *   check       Envoy ext_authz Check of the same bearer token, built as Envoy builds it with
 *               infra/envoy/envoy.yaml (only the headers Gatehouse reads), then as it builds
 *               it without `allowed_headers` (every header of the request: check-all); then
 *               both against Verify in alternating 3-s runs (median of 6 rounds), a ratio
 *               that a machine whose speed drifts between runs disturbs less
 *   login       Challenge → Submit → Token with N agents, the server on Redis; then the same
 *               logins against the login floor (bench/login-floor.ts) and its store floor
 *               (the one-time state and audit lines on the same Redis), in the same minute
 *   revocation  Revoke on replica A, Verify on replica B (same Redis) until denied
 *   denials     Redis growth under a flood of denied Verifies (junk tokens): used_memory and
 *               the audit list's MEMORY USAGE before and after, per denial
 *   gates       Challenge → Submit pairs of every kind and the one-RPC assertion grant, with
 *               server CPU per pair (bench/scenarios/gate-pairs.ts), then the assertion grant
 *               against the same floors; the iterated-hash check per round against Python's
 *               hashlib
 *   footprint   the compiled server: start-up to ready, idle RSS, RSS under BENCH_SUSTAIN_SECONDS
 *               of mixed load (bench/scenarios/footprint.ts)
 * Only correct answers count; a denial where an allow was expected is an error. After the
 * login and gate runs the server verifies its audit chain (VerifyAuditChain); a broken chain
 * fails the run.
 *
 * Every run ends with the Targets table: one row per target of issue 16 (bench/goals.ts,
 * declared once), the figure this run measured beside its limit, and the verdict (met,
 * missed, not run in this run), flagged when the run's load generator saturated its core
 * (bench/report.ts `clientSaturated`). The header prints the host's load average (as `uptime`
 * does) before and after the run, so a loaded host shows in the output itself.
 *
 * Server: BENCH_WORKERS processes per Gatehouse (default: one per core), as `gatehouse serve
 * --workers` runs them (src/app/workers.ts), sharing a Redis store; BENCH_WORKERS=1 runs one
 * process, and health/verify/dpop/check then use the embedded store. The load's connections
 * are shared out among the workers, one connection to one worker.
 *
 * Load: ONE client process, ONE thread, BENCH_CHANNELS channels (a TLS connection each),
 * BENCH_CONCURRENCY calls in flight. A grpc-js client spends more CPU per call than the server
 * does on an empty RPC, so with it the health "ceiling" is bounded by the client: read the CPU
 * columns, and "server µs/call" (server CPU per correct answer, all of its processes), which
 * does not depend on who the limit was.
 *
 * Load generator of the health, verify, dpop, check and login runs (column "gen"):
 * bench/loadgen, in Go, when `go` is on the PATH (built once into bench/.bin/loadgen,
 * GOMAXPROCS 1: one client core, and far less CPU per call than grpc-js, so the ceiling moves
 * toward the server's); otherwise, or with BENCH_LOADGEN=node, grpc-js in this process. DPoP
 * requests go to it as a file of distinct pre-generated requests, each sent once; logins as a
 * file of agents, each with its own connection and one login in flight (it signs each
 * challenge itself). Revocation, which needs sequencing across two replicas, runs on grpc-js.
 *
 *   http        the HTTP sidecar (BENCH_WORKERS processes of its own, as `gatehouse sidecar
 *               --workers` runs them) in front of the same server: forward-auth
 *               (/auth, cached bearer token) and REST Verify over HTTP/2 + TLS at 1, 8 and
 *               BENCH_CONCURRENCY in flight, beside gRPC Verify at the same (target: 60 %);
 *               on Redis also through a sidecar with an in-process verifier replica (as many
 *               processes); forward-auth also through the upstream floor
 *               (bench/proxy-floor.ts, as many processes); then gRPC Verify and every path in
 *               alternating 3-s rounds (median of 4: the target's figure). CPU: Gatehouse +
 *               sidecar, every process
 * The header prints the host's speed (CPU µs per raw Ed25519 verify) at the start, before the
 * login and the gate pairs, and at the end: it drifts within minutes on a shared VM.
 * Env: BENCH_LOADGEN (go|node; unset: go if available), BENCH_LOADGEN_PROCS (1),
 * BENCH_SECONDS (10) per measured run, BENCH_WARMUP_SECONDS (2), BENCH_CONCURRENCY (64),
 * BENCH_CHANNELS (4), BENCH_ONLY (verify,latency,dpop,check,login,revocation,denials,http,
 * gates,footprint), BENCH_IDLE_SECONDS (10), BENCH_SUSTAIN_SECONDS (300),
 * BENCH_CRYPTO_SECONDS (1),
 * BENCH_LOGIN_AGENTS (16), BENCH_REVOCATIONS (100), BENCH_REVOCATION_POLL_MS (1),
 * BENCH_REVOCATION_TIMEOUT_MS (5000), BENCH_DENIALS (20000), BENCH_WORKERS (cores), BENCH_SERVER_NODE_FLAGS (node
 * and V8 flags for the server processes; default src/app/node-flags.ts, as `npm start`), BENCH_SERVER_PROFILE
 * (a directory: each bench server process writes a V8 CPU profile of every warm-up and
 * measured run there, bench/profile.ts). Exits 1 when a measured run had any error or the
 * audit chain did not verify.
 * Gatehouse's own CPU per call, without the network and far less noisy: bench/in-process.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type { DevPki } from "../src/pki/dev-pki.js";
import { startRedisServer } from "../test/support/redis-server.js";
import {
  AUDIENCE,
  createPki,
  enrollAgents,
  gateClient,
  login,
  SCOPE,
  toClientTls,
} from "./enroll.js";
import { type GoLoadgen, resolveGoLoadgen, writeTlsFiles } from "./go-load.js";
import {
  goalMeasurements,
  grpcAroundHttp,
  HTTP_PATH_NAMES,
  HTTP_ROUND_PATHS,
  type HttpRoundPath,
  httpRoundShares,
  httpRoundsJson,
} from "./goal-figures.js";
import { formatGoalRows, goalRows, issue16Goals } from "./goals.js";
import { openChannels } from "./load.js";
import { RULES_PREFIX } from "./login-floor-rules.js";
import { BENCH_TOKEN_TTL_SECONDS } from "./protocol.js";
import { redisProbe } from "./redis-stats.js";
import {
  formatTable,
  type RawRates,
  ratio,
  rawRates,
  round,
  type Summary,
  summaryTable,
} from "./report.js";
import { type AuditChainCheck, checkAuditChain } from "./scenarios/audit-chain.js";
import { connectVerifyTarget, measureConnect } from "./scenarios/connect.js";
import { ed25519VerifyCpuUs, ed25519VerifyRate } from "./scenarios/crypto.js";
import { type DenialGrowth, measureDenialGrowth } from "./scenarios/denials.js";
import {
  DPOP_ROUND_RUNS,
  DPOP_ROUNDS,
  type DpopRounds,
  dpopRoundLines,
  measureDpop,
  measureDpopRounds,
  type ProofStats,
} from "./scenarios/dpop.js";
import { type Footprint, footprintLines, measureFootprint } from "./scenarios/footprint.js";
import { measureAssertions, measureGatePairs } from "./scenarios/gate-pairs.js";
import {
  type BenchSidecar,
  forwardAuthRequest,
  type HttpRequestSpec,
  type HttpRoute,
  measureHttp,
  PROXY_FLOOR_SCRIPT,
  restVerifyRequest,
  spawnSidecar,
} from "./scenarios/http.js";
import {
  alternateRuns,
  costRatio,
  cpuRatio,
  type InterleavedRatio,
  interleavedRatios,
  p99Ratio,
  ROUND_RUN_SECONDS,
  ROUND_SECONDS,
  ROUND_WARMUP_SECONDS,
  type RunRounds,
  roundContext,
  roundRatios,
  rpsRatio,
} from "./scenarios/interleaved.js";
import { compareIteratedHash, type IteratedHashRound } from "./scenarios/iterated-hash.js";
import {
  type AlternatingLogins,
  alternateLogins,
  floorLogins,
  type LoginFigures,
  measureLogin,
  onFloor,
} from "./scenarios/login.js";
import { measureRevocation, type RevocationSummary } from "./scenarios/revocation.js";
import { measureRpc, type RpcContext } from "./scenarios/rpc.js";
import {
  httpInFlight,
  LATENCY_IN_FLIGHT,
  readSettings,
  type Scenario,
  type Settings,
} from "./settings.js";
import { type ServerProcess, spawnServer } from "./spawn-server.js";
import { checkTarget, healthTarget, verifyTarget } from "./targets.js";

const settings = readSettings();
const { only } = settings;
const bearerRuns =
  (only.has("verify") ? 2 : 0) +
  (only.has("latency") ? 2 * LATENCY_IN_FLIGHT.length : 0) +
  (only.has("connect") ? 2 * httpInFlight(settings).length : 0) +
  (only.has("check") ? 2 : 0) +
  (only.has("http") ? 8 * httpInFlight(settings).length : 0);
/** Rounds of alternating runs at each level of httpInFlight: gRPC Verify and each HTTP path. */
const HTTP_ROUNDS = 4;
/** A round's runs: gRPC Verify, forward-auth and REST (each sidecar), the upstream floor. */
const HTTP_ROUND_RUNS = 6;
/** Rounds of alternating Verify / Check runs (bench/scenarios/interleaved.ts). */
const CHECK_ROUNDS = 6;
/** Rounds of alternating empty RPC / Verify runs at TAIL_IN_FLIGHT (target 4's p99). */
const TAIL_ROUNDS = 6;
/** Alternating rounds of Gatehouse's logins and the rules floor's (target 1). */
const LOGIN_ROUNDS = 6;
const TAIL_IN_FLIGHT = 8;
const tailRoundsSeconds = only.has("latency") ? TAIL_ROUNDS * 2 * ROUND_RUN_SECONDS : 0;
/** Each round runs Verify, Check and Check with every header. */
const checkRoundsSeconds = only.has("check") ? CHECK_ROUNDS * 3 * ROUND_RUN_SECONDS : 0;
const httpRoundsSeconds = only.has("http")
  ? httpInFlight(settings).length * HTTP_ROUNDS * HTTP_ROUND_RUNS * ROUND_RUN_SECONDS
  : 0;
const dpopRoundsSeconds = only.has("dpop") ? DPOP_ROUNDS * DPOP_ROUND_RUNS * ROUND_RUN_SECONDS : 0;
const bearerSeconds =
  bearerRuns * (settings.warmupSeconds + settings.seconds) +
  checkRoundsSeconds +
  tailRoundsSeconds +
  dpopRoundsSeconds +
  httpRoundsSeconds;
if (bearerSeconds > BENCH_TOKEN_TTL_SECONDS - 60) {
  throw new Error(
    `the runs would outlast the ${BENCH_TOKEN_TTL_SECONDS} s token; lower BENCH_SECONDS`,
  );
}

interface Figures {
  readonly results: Record<string, Summary>;
  raw?: RawRates;
  /** Verify ÷ Check server CPU per call in alternating short runs, by Check target. */
  checkInterleaved?: Record<string, InterleavedRatio>;
  /** Verify p99 ÷ empty RPC p99 at TAIL_IN_FLIGHT in alternating short runs. */
  tailRounds?: InterleavedRatio | undefined;
  /** Verify ÷ empty RPC server CPU per call in the same runs. */
  tailCost?: InterleavedRatio | undefined;
  proofs?: ProofStats;
  revocation?: RevocationSummary;
  denials?: DenialGrowth;
  auditChain?: AuditChainCheck;
  loginStore?: LoginFigures["redis"];
  /** The rules floor's Redis cost per login (bench/login-floor-rules.ts). */
  rulesFloorStore?: LoginFigures["redis"];
  /** Gatehouse ÷ the rules floor in alternating rounds (Go load generator only). */
  loginRulesRounds?: AlternatingLogins | undefined;
  iteratedHash?: IteratedHashRound;
  dpopRounds?: DpopRounds;
  footprint?: Footprint;
  /** gRPC Verify and each HTTP path in alternating short runs, by calls in flight. */
  httpRounds?: Record<number, RunRounds>;
  /** CPU µs per raw Ed25519 verify in this process, at points of the run (probeHost). */
  readonly hostSpeed: HostSpeed[];
}

interface HostSpeed {
  readonly when: string;
  readonly verifyCpuUs: number;
}

/**
 * The host's speed at this point of the run: CPU µs per raw Ed25519 verify (1 s). The same
 * code's cost drifts with the host (on this 2-core VM, 122 µs and 150–195 µs within 20
 * minutes while nothing else ran), so figures measured minutes apart are read through it,
 * and each floor is measured in the same minute as the figure it bounds.
 */
function probeHost(figures: Figures, when: string): void {
  figures.hostSpeed.push({ when, verifyCpuUs: round(ed25519VerifyCpuUs(1), 1) });
}

/**
 * health, verify, latency, dpop, check: one server (on the embedded store, or with workers
 * on Redis), one agent, two logins.
 */
async function runRpcScenarios(
  pki: DevPki,
  dataDir: string,
  figures: Figures,
  loadgen: GoLoadgen | undefined,
): Promise<void> {
  const { results } = figures;
  // Workers share state through Redis only: one for them, none for a single process.
  const redis = settings.workers > 1 ? await startRedisServer() : undefined;
  const proxyHmacSecret = only.has("http") ? randomBytes(32).toString("base64url") : undefined;
  const server = await spawnServer(dataDir, {
    ...(redis && { redisUrl: redis.url }),
    workers: settings.workers,
    ...(proxyHmacSecret && { proxyHmacSecret }),
  }).catch(async (error: unknown) => {
    await redis?.stop();
    throw error;
  });
  let channels: grpc.Client[] = [];
  try {
    const address = `127.0.0.1:${server.grpcPort}`;
    const [agent] = await enrollAgents(pki, address, 1);
    if (!agent) throw new Error("no agent enrolled");
    const client = gateClient(address, agent);
    const token = await login(client.gate, agent);
    const boundToken = only.has("dpop") ? await login(client.gate, agent, { dpop: true }) : "";
    client.channel.close();
    const verifierTls = toClientTls(pki, pki.verifier);
    channels = await openChannels(address, verifierTls, settings.channels);
    const workDir = join(dataDir, "loadgen");
    const go = loadgen && {
      loadgen,
      address,
      tls: await writeTlsFiles(workDir, verifierTls),
      workDir,
    };
    const context = { settings, channels, server, ...(go && { go }) };
    const route = { token, audience: AUDIENCE, scope: SCOPE, did: agent.did };
    if (only.has("verify")) {
      results.health = await measureRpc(healthTarget, context);
      results.verify = await measureRpc(verifyTarget(route), context);
    }
    if (only.has("latency")) {
      for (const inFlight of LATENCY_IN_FLIGHT) {
        const light = atInFlight(context, inFlight);
        results[`health@${inFlight}`] = await measureRpc(healthTarget, light);
        results[`verify@${inFlight}`] = await measureRpc(verifyTarget(route), light);
      }
      // Target 4's tail in alternating rounds too: a p99 is what a drifting host moves most.
      // The CPU per call of the same runs beside it: near saturation a call's latency grows
      // with the work each call costs.
      const tail = roundContext(atInFlight(context, TAIL_IN_FLIGHT));
      const tails = await alternateRuns(
        {
          [healthTarget.name]: () => measureRpc(healthTarget, tail),
          verify: () => measureRpc(verifyTarget(route), tail),
        },
        TAIL_ROUNDS,
      );
      figures.tailRounds = roundRatios(tails, healthTarget.name, "verify", p99Ratio);
      figures.tailCost = roundRatios(tails, healthTarget.name, "verify", costRatio);
    }
    if (only.has("connect")) {
      for (const inFlight of httpInFlight(settings)) {
        const light = atInFlight(context, inFlight);
        results[runName("verify", inFlight)] ??= await measureRpc(verifyTarget(route), light);
        const connect = { settings: light.settings, server, tls: verifierTls };
        results[runName("verify-connect", inFlight)] = await measureConnect(
          connectVerifyTarget(route),
          connect,
        );
      }
    }
    if (only.has("http") && proxyHmacSecret) {
      const http = { ...route, verifierTls };
      figures.httpRounds = await runHttpScenarios(
        dataDir,
        context,
        http,
        { hmacSecret: proxyHmacSecret, ...(redis && { redisUrl: redis.url }) },
        results,
      );
    }
    if (only.has("dpop")) {
      const bound = { key: agent.key, did: agent.did, token: boundToken };
      const { summary, proofs } = await measureDpop(context, bound, results.verify?.rps);
      results.dpop = summary;
      figures.proofs = proofs;
      const bearer = verifyTarget(route);
      figures.dpopRounds = await measureDpopRounds(context, bound, healthTarget, bearer);
    }
    if (only.has("check")) {
      const check = checkTarget(route);
      const checkAll = checkTarget(route, "all");
      results.check = await measureRpc(check, context);
      results["check-all"] = await measureRpc(checkAll, context);
      figures.checkInterleaved = await interleavedRatios(
        context,
        verifyTarget(route),
        [check, checkAll],
        CHECK_ROUNDS,
      );
    }
  } finally {
    for (const channel of channels) channel.close();
    await server.stop();
    await redis?.stop();
  }
}

function atInFlight(context: RpcContext, inFlight: number): RpcContext {
  const light = {
    ...settings,
    concurrency: inFlight,
    channels: Math.min(inFlight, settings.channels),
  };
  return { ...context, settings: light };
}

/** The name of a run at this many calls in flight (no suffix at BENCH_CONCURRENCY). */
function runName(run: string, inFlight: number): string {
  return inFlight === settings.concurrency ? run : `${run}@${inFlight}`;
}

/**
 * http: the HTTP sidecar (its own process) in front of the same server; forward-auth and
 * REST Verify at each level of httpInFlight, beside gRPC Verify at the same, measured right
 * before and right after that level's HTTP runs (`verify-before-http@N`, `verify-after-http@N`):
 * the host's speed drifts within minutes, so the HTTP paths are compared with the gRPC rate of
 * their own minute (the mean of the two), not with one measured at the start of the bench.
 * Then HTTP_ROUNDS rounds of short runs, gRPC Verify and each path in turn: the targets' figure
 * is the median of the rounds' ratios, the long runs' beside it. Both sidecars run BENCH_WORKERS processes, as the server does, so the HTTP paths and gRPC
 * Verify have the same cores to use; so does the upstream floor, so it still bounds the
 * upstream sidecar with the same processes.
 */
async function runHttpScenarios(
  dataDir: string,
  context: RpcContext,
  route: HttpRoute,
  store: { readonly hmacSecret: string; readonly redisUrl?: string },
  results: Record<string, Summary>,
): Promise<Record<number, RunRounds>> {
  const options = {
    upstream: `127.0.0.1:${context.server.grpcPort}`,
    hmacSecret: store.hmacSecret,
    audience: route.audience,
    scope: route.scope,
    workers: settings.workers,
  };
  const sidecar = await spawnSidecar(dataDir, options);
  // On Redis, the same sidecar with an in-process verifier replica (sidecar.verifier).
  const replica = store.redisUrl
    ? await spawnSidecar(dataDir, { ...options, replicaRedisUrl: store.redisUrl })
    : undefined;
  // The upstream path's floor: an HTTP/2 → gRPC hop doing nothing else (bench/proxy-floor.ts).
  const floor = await spawnSidecar(dataDir, options, PROXY_FLOOR_SCRIPT);
  const rounds: Record<number, RunRounds> = {};
  try {
    for (const inFlight of httpInFlight(settings)) {
      const light = atInFlight(context, inFlight);
      results[`verify-before-http@${inFlight}`] = await measureRpc(verifyTarget(route), light);
      const run = {
        sidecar,
        ca: route.verifierTls.ca.toString(),
        inFlight,
        connections: settings.channels,
        warmupSeconds: settings.warmupSeconds,
        seconds: settings.seconds,
        server: context.server,
        ...(context.go && { go: { loadgen: context.go.loadgen, workDir: context.go.workDir } }),
      };
      const paths = {
        auth: [forwardAuthRequest(route), sidecar],
        "auth-floor": [forwardAuthRequest(route), floor],
        "rest-verify": [restVerifyRequest(route), sidecar],
        ...(replica && {
          "auth-replica": [forwardAuthRequest(route), replica],
          "rest-replica": [restVerifyRequest(route), replica],
        }),
      } satisfies Record<string, [HttpRequestSpec, BenchSidecar]>;
      for (const [name, [spec, front]] of Object.entries(paths)) {
        results[`${name}@${inFlight}`] = await measureHttp(spec, { ...run, sidecar: front });
      }
      // Then every path beside gRPC Verify in alternating short rounds: a ratio of runs made
      // minutes apart also measures how the host's speed drifted between them.
      const short = { warmupSeconds: ROUND_WARMUP_SECONDS, seconds: ROUND_SECONDS };
      const grpcShort = roundContext(light);
      rounds[inFlight] = await alternateRuns(
        {
          verify: () => measureRpc(verifyTarget(route), grpcShort),
          ...Object.fromEntries(
            Object.entries(paths).map(([name, [spec, front]]) => [
              name,
              () => measureHttp(spec, { ...run, ...short, sidecar: front }),
            ]),
          ),
        },
        HTTP_ROUNDS,
      );
      results[`verify-after-http@${inFlight}`] = await measureRpc(verifyTarget(route), light);
    }
  } finally {
    await sidecar.stop();
    await replica?.stop();
    await floor.stop();
  }
  return rounds;
}

/** login, revocation: replicas on one Redis, sharing the data dir (so the dev CA). */
async function runRedisScenarios(
  pki: DevPki,
  dataDir: string,
  figures: Figures,
  loadgen: GoLoadgen | undefined,
): Promise<void> {
  const redis = await startRedisServer();
  const servers: ServerProcess[] = [];
  const spawnReplica = async () => {
    const server = await spawnServer(dataDir, { redisUrl: redis.url, workers: settings.workers });
    servers.push(server);
    return { server, address: `127.0.0.1:${server.grpcPort}` };
  };
  try {
    const a = await spawnReplica();
    const many = only.has("login") || only.has("gates");
    const agents = await enrollAgents(pki, a.address, many ? settings.loginAgents : 1);
    /**
     * `measure` against the floor, then against its store floor on this Redis
     * (bench/login-floor.ts), right after Gatehouse's run: `<name>-floor`, `<name>-store-floor`.
     */
    const measureFloors = async (
      name: string,
      measure: (floor: ServerProcess, address: string) => Promise<Summary>,
    ) => {
      figures.results[`${name}-floor`] = await onFloor(settings, dataDir, agents, measure);
      figures.results[`${name}-store-floor`] = await onFloor(settings, dataDir, agents, measure, {
        redisUrl: redis.url,
      });
    };
    if (only.has("login")) {
      probeHost(figures, "before the login");
      const probe = redisProbe(redis.url);
      try {
        const login = await measureLogin(settings, a.server, a.address, agents, loadgen, probe);
        figures.results.login = login.summary;
        figures.loginStore = login.redis;
        await measureFloors("login", floorLogins(settings, agents, loadgen));
        // The rules floor (bench/login-floor-rules.ts), with its Redis cost beside Gatehouse's.
        const rulesProbe = redisProbe(redis.url, RULES_PREFIX);
        try {
          const rules = await onFloor(
            settings,
            dataDir,
            agents,
            async (floor, at) => {
              const full = await measureLogin(settings, floor, at, agents, loadgen, rulesProbe);
              const gatehouse = { server: a.server, address: a.address };
              const rounds =
                loadgen &&
                (await alternateLogins(
                  settings,
                  agents,
                  loadgen,
                  gatehouse,
                  { server: floor, address: at },
                  LOGIN_ROUNDS,
                ));
              return { ...full, rounds };
            },
            { redisUrl: redis.url, rules: true },
          );
          figures.results["login-rules-floor"] = rules.summary;
          figures.rulesFloorStore = rules.redis;
          figures.loginRulesRounds = rules.rounds;
        } finally {
          await rulesProbe.close();
        }
      } finally {
        await probe.close();
      }
    }
    if (only.has("gates")) {
      probeHost(figures, "before the gate pairs");
      const pairs = await measureGatePairs(settings, a.server, a.address, agents, loadgen);
      Object.assign(figures.results, pairs);
      await measureFloors("assertion", (floor, at) =>
        measureAssertions(settings, floor, at, agents, loadgen),
      );
    }
    if (many) figures.auditChain = await checkAuditChain(pki, a.address);
    if (only.has("revocation")) {
      const [agent] = agents;
      if (!agent) throw new Error("no agent enrolled");
      const client = gateClient(a.address, agent);
      const tokens: string[] = [];
      try {
        for (let i = 0; i < settings.revocations; i++) tokens.push(await login(client.gate, agent));
      } finally {
        client.channel.close();
      }
      const b = await spawnReplica();
      const replicas = {
        a: a.address,
        b: b.address,
        adminTls: toClientTls(pki, pki.admin),
        verifierTls: toClientTls(pki, pki.verifier),
      };
      figures.revocation = await measureRevocation(settings, replicas, tokens, agent.did);
    }
  } finally {
    for (const server of servers) await server.stop();
    await redis.stop();
  }
}

async function main(): Promise<number> {
  const loadBefore = loadavg();
  console.log(`Load average before the run: ${formatLoad(loadBefore)}`);
  const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-bench-"));
  const figures: Figures = { results: {}, hostSpeed: [] };
  try {
    const loadgen = await resolveGoLoadgen();
    const pki = await createPki(dataDir);
    probeHost(figures, "start");
    const rawBefore = only.has("dpop") ? ed25519VerifyRate(settings.cryptoSeconds) : undefined;
    const rpcScenarios = ["verify", "latency", "connect", "dpop", "check", "http"];
    if (rpcScenarios.some((name) => only.has(name as Scenario))) {
      await runRpcScenarios(pki, dataDir, figures, loadgen);
    }
    if (only.has("login") || only.has("revocation") || only.has("gates")) {
      await runRedisScenarios(pki, dataDir, figures, loadgen);
    }
    if (only.has("denials")) figures.denials = await measureDenialGrowth(settings, pki, dataDir);
    if (only.has("gates")) figures.iteratedHash = await compareIteratedHash();
    if (only.has("footprint")) figures.footprint = await measureFootprint(settings, pki, dataDir);
    const rawAfter = only.has("dpop") ? ed25519VerifyRate(settings.cryptoSeconds) : undefined;
    if (rawBefore && rawAfter) figures.raw = rawRates(rawBefore, rawAfter);
    probeHost(figures, "end");
    report(settings, figures, loadgen, { before: loadBefore, after: loadavg() });
    const { results, revocation } = figures;
    const errors =
      Object.values(results).some((r) => r.errors > 0) ||
      (revocation?.errors ?? 0) > 0 ||
      figures.auditChain?.ok === false;
    return errors ? 1 : 0;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The host's load average over 1, 5 and 15 minutes, as `uptime` prints it. */
interface HostLoad {
  readonly before: readonly number[];
  readonly after: readonly number[];
}

function formatLoad(load: readonly number[]): string {
  return load.map((value) => value.toFixed(2)).join(", ");
}

function report(
  settings: Settings,
  figures: Figures,
  loadgen: GoLoadgen | undefined,
  load: HostLoad,
): void {
  const { results, proofs, revocation, checkInterleaved, denials, raw, dpopRounds } = figures;
  const { health, verify, dpop, check, login: logins } = results;
  const ratios = {
    verifyToCeiling: ratio(verify?.rps, health?.rps),
    serverCostCeilingToVerify: ratio(health?.serverCpuUsPerCall, verify?.serverCpuUsPerCall),
    dpopToRawVerify: ratio(dpop?.rps, raw?.mean),
    /** CPU-normalized, robust to a busy machine: per server core ÷ the best raw window. */
    dpopCoreToRawPeak: ratio(dpop?.coreRps, raw?.peak),
    checkToVerify: ratio(check?.rps, verify?.rps),
    checkCoreToVerifyCore: ratio(check?.coreRps, verify?.coreRps),
    checkAllToVerify: ratio(results["check-all"]?.rps, verify?.rps),
  };
  const show = (value: number | undefined) => (value === undefined ? "n/a" : value.toFixed(3));
  const generators = Object.entries(results).map(([name, r]) => `${name} ${r.generator}`);
  if (revocation) generators.push("revocation node");
  console.log(
    `\nGatehouse gRPC bench over mTLS, ${settings.concurrency} in flight on ` +
      `${settings.channels} connections, warm-up ${settings.warmupSeconds} s, ` +
      `measured ${settings.seconds} s each, ${availableParallelism()} cores, Node ${process.version}`,
  );
  const busy = Math.max(load.before[0] ?? 0, load.after[0] ?? 0) > availableParallelism();
  console.log(
    `Host load average (1, 5, 15 min): ${formatLoad(load.before)} before, ` +
      `${formatLoad(load.after)} after` +
      (busy
        ? " — MORE THAN ITS CORES: absolute rates measure the host as much as Gatehouse; " +
          "read server CPU per call and the ratios between runs of this bench"
        : ""),
  );
  const speeds = figures.hostSpeed.map(({ when, verifyCpuUs }) => `${verifyCpuUs} ${when}`);
  console.log(
    `Host speed (CPU µs per raw Ed25519 verify, 1 s each): ${speeds.join(", ")} — the same ` +
      "code; figures measured minutes apart differ by as much as the host drifted",
  );
  console.log(
    `Server: ${settings.workers === 1 ? "1 process (embedded store; Redis for login and revocation)" : `${settings.workers} worker processes per Gatehouse, Redis store`}`,
  );
  if (only.has("http")) {
    console.log(
      `HTTP sidecars (upstream and replica): ${settings.workers === 1 ? "1 process" : `${settings.workers} worker processes`} each, the upstream floor too`,
    );
  }
  console.log(
    `Load generators: ${generators.join(", ") || "none"} (node: grpc-js, 1 client thread; go: ` +
      `bench/loadgen${loadgen ? `, GOMAXPROCS ${loadgen.procs}` : ", not in use"})\n`,
  );
  if (Object.keys(results).length > 0) for (const line of summaryTable(results)) console.log(line);
  console.log("");
  if (verify) {
    console.log(`Verify / ceiling: ${show(ratios.verifyToCeiling)} (req/s of correct answers)`);
    console.log(`Server CPU per call, ceiling / Verify: ${show(ratios.serverCostCeilingToVerify)}`);
  }
  const latency = latencyLine(results, settings.concurrency);
  if (latency) console.log(latency);
  if (figures.tailRounds) {
    const { median: tailMedian, rounds } = figures.tailRounds;
    const cost = figures.tailCost;
    console.log(
      `  Verify p99 ÷ empty RPC p99 at ${TAIL_IN_FLIGHT} in flight, ${rounds.length} alternating ` +
        `rounds of ${ROUND_SECONDS} s (median): ${tailMedian.toFixed(3)} (rounds ${rounds.join(", ")})` +
        (cost
          ? `; server CPU per call, Verify ÷ empty RPC, same runs: ${cost.median.toFixed(3)} ` +
            `(rounds ${cost.rounds.join(", ")})`
          : ""),
    );
  }
  for (const line of httpLines(results, figures.httpRounds ?? {})) console.log(line);
  if (dpop && raw) {
    console.log(
      `DPoP Verify / raw Ed25519 verify (1 core): ${show(ratios.dpopToRawVerify)} ` +
        `(${dpop.rps} req/s ÷ ${raw.mean} verifies/s; raw before ${raw.before}, ` +
        `after ${raw.after}, best 100 ms ${raw.peak}; ` +
        "the token signature is skipped on a verified-token cache hit; the proof is always checked)",
    );
    console.log(
      `  per server core: ${dpop.coreRps} req/s ÷ best raw ${raw.peak} = ` +
        `${show(ratios.dpopCoreToRawPeak)}`,
    );
  }
  if (proofs) {
    const fate = dpop?.generator === "go" ? "each sent once" : `${proofs.inline} generated inline`;
    console.log(
      `  DPoP proofs: ${proofs.pregenerated} pre-generated right before the measured run ` +
        `(${proofs.generationRate}/s), ${fate}` +
        (proofs.exhausted ? "; THEY RAN OUT before the end of the run (rate understated)" : ""),
    );
  }
  if (dpopRounds) for (const line of dpopRoundLines(dpopRounds)) console.log(line);
  if (check) {
    console.log(
      `Check / Verify: ${show(ratios.checkToVerify)} ` +
        `(per server core: ${show(ratios.checkCoreToVerifyCore)}; Envoy as infra/envoy configures ` +
        `it); with every request header (no allowed_headers): ${show(ratios.checkAllToVerify)}`,
    );
  }
  if (checkInterleaved) {
    const line = (name: string) => {
      const r = checkInterleaved[name];
      return r ? `${name} ${r.median.toFixed(3)} (rounds ${r.rounds.join(", ")})` : `${name} n/a`;
    };
    console.log(
      `Check / Verify, alternating ${CHECK_ROUNDS} rounds of ${ROUND_SECONDS} s (Verify ÷ Check server CPU ` +
        `per call, median): ${line("check")}; ${line("check-all")}`,
    );
  }
  if (logins) {
    console.log(
      `Login (signature, Redis store): ${logins.rps} logins/s with ${logins.inFlight} agents ` +
        `(${logins.rps * 3} RPC/s; ${logins.correct} tokens of ${logins.sent} logins)`,
    );
  }
  if (figures.loginStore) printLoginStore(figures.loginStore, logins);
  if (figures.rulesFloorStore) {
    console.log("The rules floor (bench/login-floor-rules.ts), the same Redis figures:");
    printLoginStore(figures.rulesFloorStore, results["login-rules-floor"]);
  }
  printGatePairs(results);
  if (figures.iteratedHash) printIteratedHash(figures.iteratedHash);
  if (figures.footprint) printFootprint(figures.footprint);
  if (revocation) printRevocation(revocation, settings);
  if (denials) printDenials(denials);
  for (const [name, r] of Object.entries(results)) {
    for (const [kind, count] of Object.entries(r.errorKinds)) {
      console.log(`  ${name} error ×${count}: ${kind}`);
    }
  }
  const goals = issue16Goals(httpInFlight(settings));
  const names = { concurrency: settings.concurrency, httpInFlight: httpInFlight(settings) };
  const rows = goalRows(goals, goalMeasurements(figures, names));
  console.log("\nTargets (issue 16), each figure of this run beside its limit:");
  for (const line of formatGoalRows(rows)) console.log(line);
  const json = {
    loadAverage: load,
    seconds: settings.seconds,
    warmupSeconds: settings.warmupSeconds,
    concurrency: settings.concurrency,
    channels: settings.channels,
    only: [...settings.only],
    loginAgents: settings.loginAgents,
    workers: settings.workers,
    cores: availableParallelism(),
    node: process.version,
    loadgen: loadgen ? { kind: "go", procs: loadgen.procs } : { kind: "node" },
    results,
    ratio: ratios.verifyToCeiling ?? null,
    serverCostRatio: ratios.serverCostCeilingToVerify ?? null,
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, v ?? null])),
    ed25519VerifyOpsPerSec: raw ?? null,
    dpopProofs: proofs ?? null,
    dpopRounds: dpopRounds ?? null,
    revocation: revocation ?? null,
    checkInterleaved: checkInterleaved ?? null,
    tailRounds: figures.tailRounds ?? null,
    tailCost: figures.tailCost ?? null,
    httpRounds: figures.httpRounds ? httpRoundsJson(figures.httpRounds) : null,
    denials: denials ?? null,
    loginStore: figures.loginStore ?? null,
    rulesFloorStore: figures.rulesFloorStore ?? null,
    loginRulesRounds: figures.loginRulesRounds ?? null,
    iteratedHash: figures.iteratedHash ?? null,
    footprint: figures.footprint ?? null,
    auditChain: figures.auditChain ?? null,
    hostSpeed: figures.hostSpeed,
    goals,
    targets: rows,
  };
  console.log(`BENCH_JSON ${JSON.stringify(json)}`);
}

/** p99 of the empty RPC and of Verify by calls in flight, from every run that has them. */
function latencyLine(results: Record<string, Summary>, concurrency: number): string | undefined {
  const levels = [...LATENCY_IN_FLIGHT, concurrency];
  const p99 = (run: string) =>
    levels
      .map((n) => results[n === concurrency ? run : `${run}@${n}`]?.p99Ms.toFixed(2) ?? "n/a")
      .join(" / ");
  if (!LATENCY_IN_FLIGHT.some((n) => results[`verify@${n}`])) return undefined;
  return (
    `p99 ms at ${levels.join(" / ")} in flight: empty RPC ${p99("health")}, ` +
    `Verify ${p99("verify")}`
  );
}

function printLoginStore(cost: NonNullable<Figures["loginStore"]>, login?: Summary): void {
  console.log(
    `  per login: ${cost.commandsPer} Redis commands in ${cost.readsPer} batches (Redis socket reads), server CPU ${login?.serverCpuUsPerCall ?? "n/a"} µs, ` +
      `Redis CPU ${cost.cpuUsPer} µs; ` +
      `Redis used_memory +${cost.usedMemoryBytesPer} B (challenge and pass records included ` +
      `until they expire), keys +${cost.keysPer}, audit +${cost.auditEntriesPer} entries ` +
      `(+${cost.auditBytesPer} B, kept)`,
  );
  const commands = Object.entries(cost.byCommandPer).map(([name, calls]) => `${name} ${calls}`);
  console.log(`  Redis commands per login, by command: ${commands.join(", ")}`);
}

function printGatePairs(results: Record<string, Summary>): void {
  const rows = Object.entries(results).filter(
    ([name]) => name.startsWith("pair:") || name === "assertion",
  );
  if (rows.length === 0) return;
  console.log(
    "\nGate pairs (Challenge → Submit) and the assertion grant, Redis store (client: its column gen):",
  );
  for (const [name, r] of rows) {
    console.log(
      `  ${name}: ${r.rps}/s (${r.correct} of ${r.sent}), server CPU ${r.serverCpuUsPerCall} µs ` +
        `each (${r.coreRps}/s per server core), client CPU ${r.clientCpu} % (${r.generator})`,
    );
  }
}

function printIteratedHash(r: IteratedHashRound): void {
  console.log(
    `Iterated-hash check per SHA-256 round (1,000 rounds, median of alternating runs): ` +
      `Gatehouse ${r.gatehouseNs} ns, ${r.python} hashlib ${r.pythonNs} ns ` +
      `(Gatehouse ${r.speedup}× as fast)`,
  );
}

function printFootprint(f: Footprint): void {
  for (const line of footprintLines(f)) console.log(line);
}

/** Forward-auth and REST Verify beside gRPC Verify, by calls in flight (target ≥ 0.60). */
function httpLines(
  results: Record<string, Summary>,
  httpRounds: Record<number, RunRounds>,
): string[] {
  const lines: string[] = [];
  for (const n of httpInFlight(settings)) {
    const own = results[runName("verify", n)];
    // The sidecar's paths are compared with gRPC Verify measured around them, Connect with
    // the bench's own run at n.
    const around = grpcAroundHttp(results, n);
    const beside = around ?? own;
    if (!beside) continue;
    const cell = (r: Summary) =>
      `${r.rps} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.serverCpuUsPerCall} µs CPU`;
    const share = (r: Summary, grpc: Summary | undefined = beside) =>
      ratio(r.rps, grpc?.rps)?.toFixed(2) ?? "n/a";
    const connect = results[runName("verify-connect", n)];
    const cells = [
      ...(connect && own ? [`Connect JSON ${cell(connect)} (${share(connect, own)})`] : []),
      ...HTTP_ROUND_PATHS.flatMap((path) => {
        const r = results[`${path}@${n}`];
        return r ? [`${HTTP_PATH_NAMES[path]} ${cell(r)} (${share(r)})`] : [];
      }),
    ];
    if (cells.length === 0) continue;
    const grpcCells = [
      ...(own ? [`gRPC Verify ${cell(own)}`] : []),
      ...(around?.around
        ? [`gRPC Verify around the sidecar's runs ${around.around.join(" and ")} req/s`]
        : []),
    ];
    lines.push(
      `HTTP at ${n} in flight (share of gRPC): ${cells.join("; ")}; ${grpcCells.join("; ")}`,
    );
    const rounds = httpRounds[n];
    if (!rounds) continue;
    const shown = (r: InterleavedRatio) => `${r.median.toFixed(2)} (${r.rounds.join(", ")})`;
    const shares = Object.entries(httpRoundShares(rounds)).map(
      ([path, r]) => `${HTTP_PATH_NAMES[path as HttpRoundPath]} ${shown(r)}`,
    );
    const replicaRps = roundRatios(rounds, "auth", "auth-replica", rpsRatio);
    const replicaCpu = roundRatios(rounds, "auth", "auth-replica", cpuRatio);
    lines.push(
      `  beside gRPC Verify in ${HTTP_ROUNDS} alternating rounds of ${ROUND_SECONDS} s ` +
        `(median share of its req/s, rounds): ${shares.join("; ")}` +
        (replicaRps.rounds.length > 0
          ? `; forward-auth replica ÷ upstream ${shown(replicaRps)}× req/s, ` +
            `${shown(replicaCpu)}× less CPU per call`
          : ""),
    );
  }
  return lines;
}

function printDenials(d: DenialGrowth): void {
  console.log(
    `\nDenial flood (Redis store): ${d.denied} denied Verifies of junk tokens at ${d.rps}/s; ` +
      `Redis used_memory ${d.usedMemoryBefore} → ${d.usedMemoryAfter} B ` +
      `(${d.usedMemoryPerDenial} B per denial); audit list +${d.auditEntriesAdded} entries, ` +
      `${d.auditBytesPerDenial} B per denial (one entry costs ${d.bytesPerEntry} B)`,
  );
}

function printRevocation(r: RevocationSummary, settings: Settings): void {
  console.log(
    `\nRevocation A → B (two replicas, one Redis; a Verify sent to B every ` +
      `${settings.revocationPollMs} ms, measured period ${r.pollPeriodMs} ms): ` +
      `${r.sent} revocations, ${r.correct} correct, ${r.errors} errors; ${r.polls} polls; ` +
      `B denied before A's ack arrived: ${r.deniedBeforeAck}; ` +
      `B allowed a poll sent after A's ack: ${r.allowedAfterAck}`,
  );
  const rows = [
    ["Revoke sent → denial seen on B", r.fromRevokeSent],
    ["Revoke sent → first denied poll sent", r.firstDeniedPoll],
    ["Revoke acked → denial seen on B", r.fromRevokeAck],
    ["allowed on B after ack, by", r.staleAfterAck],
    ["Revoke RPC on A", r.revokeRpc],
  ] as const;
  const table = formatTable(
    ["", "p50 ms", "p99 ms", "max ms", "mean ms"],
    rows.map(([name, d]) => [
      name,
      ...[d.p50Ms, d.p99Ms, d.maxMs, d.meanMs].map((v) => v.toFixed(2)),
    ]),
  );
  for (const line of table) console.log(line);
  for (const [kind, count] of Object.entries(r.errorKinds)) {
    console.log(`  revocation error ×${count}: ${kind}`);
  }
}

process.exitCode = await main();
