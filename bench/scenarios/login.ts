/**
 * Full logins against a server on Redis: `loginAgents` agents, each with its own certificate
 * and connection and one login in flight: Challenge → Submit → Token (signature kind), three
 * RPCs. Only a token issued to that agent counts. On bench/loadgen's login mode when the Go
 * generator is in use (a grpc-js client spends about as much CPU per login as the server),
 * otherwise on grpc-js in this process. Redis is read right before and after the measured
 * run: commands, memory and audit growth per login (the challenge and pass records included
 * until they expire).
 *
 * The warm-up lasts at least LOGIN_WARMUP_SECONDS, whatever BENCH_WARMUP_SECONDS says: a login
 * runs far more distinct code than a Verify, and V8 keeps optimizing it (TurboFan, on the
 * server's own threads, so in its CPU) for the first ~10 s of load.
 */
import { runTasks } from "../async-load.js";
import { AUDIENCE, type BenchAgent, gateClient, login, SCOPE } from "../enroll.js";
import { type GoLoadgen, runGoLogins } from "../go-load.js";
import { BENCH_ISSUER } from "../protocol.js";
import { type RedisCost, type RedisProbe, type RedisSnapshot, redisCost } from "../redis-stats.js";
import { round, type Summary, summarize } from "../report.js";
import type { Settings } from "../settings.js";
import { type ServerProcess, spawnServer } from "../spawn-server.js";
import {
  cpuRatio,
  type InterleavedRatio,
  median,
  ROUND_SECONDS,
  ROUND_WARMUP_SECONDS,
} from "./interleaved.js";

/**
 * Measured (perf record on the server, 2 cores, 16 agents): TurboFan's share of the server's
 * CPU was 20–23 % in the first ~10 s of load and 1–4 % after ~15 s; CPU per login in 5-s
 * windows of one run fell from 4,804 µs (0–5 s) to 3,156–3,840 µs (from 10 s on). A 2-s
 * warm-up measured the compiler along with the logins.
 */
export const LOGIN_WARMUP_SECONDS = 10;

export interface LoginFigures {
  readonly summary: Summary;
  /** Redis commands, memory and audit growth per login of the measured run. */
  readonly redis: RedisCost;
}

export async function measureLogin(
  settings: Settings,
  server: ServerProcess,
  address: string,
  agents: readonly BenchAgent[],
  go: GoLoadgen | undefined,
  probe: RedisProbe,
): Promise<LoginFigures> {
  let storeBefore: RedisSnapshot | undefined;
  const mark = async () => {
    storeBefore = await probe.snapshot();
  };
  const summary = go
    ? await measureGoGrants(settings, server, address, agents, go, { grant: "login", mark })
    : await measureNodeLogin(settings, server, address, agents, mark);
  if (!storeBefore) throw new Error("no Redis snapshot before the measured run");
  return { summary, redis: redisCost(storeBefore, await probe.snapshot(), summary.correct) };
}

/**
 * Logins (or assertion grants) on bench/loadgen, the server's CPU and the `mark` taken right
 * before the measured phase. Logins warm up for at least LOGIN_WARMUP_SECONDS.
 */
export async function measureGoGrants(
  settings: Settings,
  server: ServerProcess,
  address: string,
  agents: readonly BenchAgent[],
  go: GoLoadgen,
  run: {
    readonly grant: "login" | "assertion";
    readonly mark?: () => Promise<void>;
    /** Overrides the warm-up (a server already warm: an alternating round after the first). */
    readonly warmupSeconds?: number;
  },
): Promise<Summary> {
  let before: Awaited<ReturnType<ServerProcess["usage"]>> | undefined;
  const warmupSeconds =
    run.warmupSeconds ??
    (run.grant === "login"
      ? Math.max(settings.warmupSeconds, LOGIN_WARMUP_SECONDS)
      : settings.warmupSeconds);
  const result = await runGoLogins(
    agents,
    { audience: AUDIENCE, scopes: [SCOPE], grant: run.grant, issuer: BENCH_ISSUER },
    {
      go,
      address,
      warmupSeconds,
      seconds: settings.seconds,
      beforeMeasured: async () => {
        before = await server.usage({ collectFirst: true });
        await run.mark?.();
      },
    },
  );
  if (!before) throw new Error("no server usage before the measured run");
  return summarize(result, agents.length, before, await server.usage());
}

/**
 * The bench's logins against a server at `address` without a Redis probe: what the login
 * floor and its store floor (bench/login-floor.ts, through `onFloor`) are measured with, so
 * their logins/s stand beside Gatehouse's figure.
 */
export function floorLogins(
  settings: Settings,
  agents: readonly BenchAgent[],
  go: GoLoadgen | undefined,
): (server: ServerProcess, address: string) => Promise<Summary> {
  return (server, address) =>
    go
      ? measureGoGrants(settings, server, address, agents, go, { grant: "login" })
      : measureNodeLogin(settings, server, address, agents, async () => {});
}

/** A server the bench's logins can be sent to. */
export interface LoginServer {
  readonly server: ServerProcess;
  readonly address: string;
}

/** Gatehouse ÷ a floor, per alternating round: logins/s, and floor ÷ Gatehouse server CPU per login. */
export interface AlternatingLogins {
  readonly rate: InterleavedRatio;
  readonly cpu: InterleavedRatio;
}

/**
 * Gatehouse's logins beside a floor's (bench/login-floor.ts) in `rounds` alternating short
 * runs on the same Redis, both servers up and already warm: on a host whose speed drifts
 * within a minute, two runs a minute apart compare the host as much as the code.
 */
export async function alternateLogins(
  settings: Settings,
  agents: readonly BenchAgent[],
  go: GoLoadgen,
  gatehouse: LoginServer,
  floor: LoginServer,
  rounds: number,
): Promise<AlternatingLogins> {
  const short = { ...settings, seconds: ROUND_SECONDS };
  const run = (target: LoginServer) =>
    measureGoGrants(short, target.server, target.address, agents, go, {
      grant: "login",
      warmupSeconds: ROUND_WARMUP_SECONDS,
    });
  const rate: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const ours = await run(gatehouse);
    const theirs = await run(floor);
    rate.push(round(ours.rps / Math.max(1, theirs.rps), 3));
    cpu.push(round(cpuRatio(theirs, ours), 3));
  }
  return {
    rate: { rounds: rate, median: median(rate) },
    cpu: { rounds: cpu, median: median(cpu) },
  };
}

/**
 * `measure` against the floor server (bench/login-floor.ts) for `agents`, in as many
 * processes as Gatehouse runs (`settings.workers`), its state in `store.redisUrl` when given
 * (with `store.rules`, the rules floor); the floor is stopped after.
 */
export async function onFloor<T>(
  settings: Settings,
  dataDir: string,
  agents: readonly BenchAgent[],
  measure: (server: ServerProcess, address: string) => Promise<T>,
  store?: { readonly redisUrl: string; readonly rules?: boolean },
): Promise<T> {
  const floor = {
    agents: agents.map(({ did, key }) => ({
      did,
      publicKey: Buffer.from(key.publicKey).toString("base64url"),
    })),
    redisUrl: store?.redisUrl,
    rules: store?.rules,
  };
  const server = await spawnServer(dataDir, { workers: settings.workers, floor });
  try {
    return await measure(server, `127.0.0.1:${server.grpcPort}`);
  } finally {
    await server.stop();
  }
}

async function measureNodeLogin(
  settings: Settings,
  server: ServerProcess,
  address: string,
  agents: readonly BenchAgent[],
  mark: () => Promise<void>,
): Promise<Summary> {
  const clients = agents.map((agent) => ({ agent, ...gateClient(address, agent) }));
  const task = async (slot: number) => {
    const client = clients[slot];
    if (!client) throw new Error(`no agent for slot ${slot}`);
    return tokenProblem(await login(client.gate, client.agent), client.agent.did);
  };
  const concurrency = clients.length;
  try {
    const warmupSeconds = Math.max(settings.warmupSeconds, LOGIN_WARMUP_SECONDS);
    const warmup = await runTasks(task, { concurrency, durationMs: warmupSeconds * 1000 });
    if (warmup.errors > 0) console.error(`warning: ${warmup.errors} errors during login warm-up`);
    const before = await server.usage({ collectFirst: true });
    await mark();
    const result = await runTasks(task, { concurrency, durationMs: settings.seconds * 1000 });
    return summarize(result, concurrency, before, await server.usage());
  } finally {
    for (const client of clients) client.channel.close();
  }
}

/** undefined for a compact JWS whose `sub` is the agent; what is wrong otherwise. */
export function tokenProblem(token: string, did: string): string | undefined {
  const claims = tokenClaims(token);
  if (!claims) return "token is not a compact JWS";
  return claims.sub === did ? undefined : "token issued to another agent";
}

/** The unverified claims of a compact JWS (the bench only needs `sub` and `jti`). */
export function tokenClaims(token: string): { sub?: unknown; jti?: unknown } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}
