/**
 * Footprint, as an operator runs it: the bundled server (`npm run build`, then `npm start`:
 * `node dist/bundle/gatehouse.js serve`, one process, Redis store), not the bench's tsx one.
 *   start-up  spawn → `/readyz` 200, polled every 5 ms; the first start on an empty Redis
 *             (creates the signing and audit keys) and the median of the restarts after it;
 *             with the server's own timeline of each (src/app/startup.ts: boot = node, CLI,
 *             configuration and modules loaded; then TLS files, store connect, composition
 *             with key load, listeners) and its CPU time at ready
 *   idle      RSS (/proc) after `idleSeconds` with nothing to do
 *   sustained RSS every 2 s under `sustainSeconds` of mixed load from this process (16 agents:
 *             of every 20 operations, 2 full logins, 17 Verifies of a cached token, 1 Verify
 *             of a junk token): start, peak and end of the curve, then idle again
 * Redis growth per login and per denied Verify are in the login and denials runs.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { MAX_RATE_LIMIT } from "../../src/config/limits.js";
import type { DevPki } from "../../src/pki/dev-pki.js";
import { startRedisServer } from "../../test/support/redis-server.js";
import { runTasks } from "../async-load.js";
import { AUDIENCE, enrollAgents, gateClient, login, toClientTls } from "../enroll.js";
import { BENCH_ISSUER, BENCH_TRUST_DOMAIN } from "../protocol.js";
import { round } from "../report.js";
import type { Settings } from "../settings.js";
import { serverNodeFlags } from "../spawn-server.js";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(REPO, "dist", "bundle", "gatehouse.js");
const RESTARTS = 3;
const SAMPLE_EVERY_MS = 2_000;
const AGENTS = 16;
const MIB = 2 ** 20;
/** USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on Linux (every architecture). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface Footprint {
  readonly node: string;
  readonly firstStartMs: number;
  readonly restartMs: number;
  /** The server's start-up timeline (ms per phase, CPU ms at ready), first start and median restart. */
  readonly firstStartup: Readonly<Record<string, number>>;
  readonly restartStartup: Readonly<Record<string, number>>;
  readonly idleRssMiB: number;
  readonly sustained: {
    readonly seconds: number;
    readonly sent: number;
    readonly correct: number;
    readonly startMiB: number;
    readonly peakMiB: number;
    readonly endMiB: number;
    readonly idleAfterMiB: number;
    /** The server's CPU time (user + system, every thread) per operation of the mixed load. */
    readonly serverCpuUsPerOp: number;
  };
  /** The server's node/V8 flags (BENCH_SERVER_NODE_FLAGS, default as `npm start`). */
  readonly nodeFlags: string;
}

export async function measureFootprint(
  settings: Settings,
  pki: DevPki,
  dataDir: string,
): Promise<Footprint> {
  await run("npm", ["run", "build", "--silent"], { cwd: REPO, timeout: 600_000 });
  const redis = await startRedisServer();
  const env = serveEnv(pki, dataDir, redis.url);
  try {
    const first = await startServer(env);
    await first.stop();
    const restarts: Served[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      const server = await startServer(env);
      restarts.push(server);
      await server.stop();
    }
    const server = await startServer(env);
    try {
      await sleep(settings.idleSeconds * 1000);
      const idle = await rssMiB(server.pid);
      const sustained = await sustain(settings, pki, server, await rssMiB(server.pid));
      await sleep(settings.idleSeconds * 1000);
      return {
        node: process.version,
        nodeFlags: serverNodeFlags().join(" "),
        firstStartMs: first.readyMs,
        restartMs: median(restarts.map((r) => r.readyMs)),
        firstStartup: first.startup,
        restartStartup: medianPhases(restarts.map((r) => r.startup)),
        idleRssMiB: idle,
        sustained: { ...sustained, idleAfterMiB: await rssMiB(server.pid) },
      };
    } finally {
      await server.stop();
    }
  } finally {
    await redis.stop();
  }
}

async function sustain(settings: Settings, pki: DevPki, server: Served, startMiB: number) {
  const address = `127.0.0.1:${server.grpcPort}`;
  const agents = await enrollAgents(pki, address, AGENTS, "footprint.example.com");
  const gates = agents.map((agent) => ({ agent, ...gateClient(address, agent) }));
  const verify = createGrpcClient(VerifyService, {
    address,
    tls: toClientTls(pki, pki.verifier),
  });
  const tokens = await Promise.all(gates.map(({ gate, agent }) => login(gate, agent)));
  const samples: number[] = [startMiB];
  const sampler = setInterval(() => {
    void rssMiB(server.pid).then((mib) => samples.push(mib));
  }, SAMPLE_EVERY_MS);
  let operation = 0;
  const cpuBefore = await cpuMicros(server.pid);
  try {
    const result = await runTasks(
      async (slot) => {
        const step = operation++ % 20;
        const { gate, agent } = gates[slot % gates.length] as (typeof gates)[number];
        if (step < 2) return (await login(gate, agent)).startsWith("ey") ? undefined : "no token";
        const junk = step === 19;
        const token = junk ? `junk.${randomBytes(24).toString("base64url")}.x` : tokens[slot];
        const decision = await verify.verify({ token: token ?? "", audience: AUDIENCE });
        return decision.allowed === !junk ? undefined : `allowed=${decision.allowed}`;
      },
      { concurrency: AGENTS, durationMs: settings.sustainSeconds * 1000 },
    );
    const cpuUsed = (await cpuMicros(server.pid)) - cpuBefore;
    samples.push(await rssMiB(server.pid));
    return {
      serverCpuUsPerOp: round(cpuUsed / Math.max(result.sent, 1), 0),
      seconds: settings.sustainSeconds,
      sent: result.sent,
      correct: result.correct,
      startMiB,
      peakMiB: Math.max(...samples),
      endMiB: samples.at(-1) ?? Number.NaN,
    };
  } finally {
    clearInterval(sampler);
    verify.close();
    for (const { channel } of gates) channel.close();
  }
}

interface Served {
  readonly pid: number;
  readonly grpcPort: number;
  readonly readyMs: number;
  readonly startup: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

function serveEnv(pki: DevPki, dataDir: string, redisUrl: string): NodeJS.ProcessEnv {
  const limit = String(MAX_RATE_LIMIT);
  return {
    PATH: process.env.PATH,
    // As the container image runs it: restarts reuse V8's compile cache (Node >= 22.1).
    NODE_COMPILE_CACHE: join(dataDir, "footprint", "compile-cache"),
    GATEHOUSE_TLS_CERT: pki.server.certPath,
    GATEHOUSE_TLS_KEY: pki.server.keyPath,
    GATEHOUSE_TLS_CA: pki.ca.certPath,
    GATEHOUSE_DATA_DIR: join(dataDir, "footprint"),
    GATEHOUSE_ISSUER: BENCH_ISSUER,
    GATEHOUSE_TRUST_DOMAIN: BENCH_TRUST_DOMAIN,
    GATEHOUSE_GRPC_HOST: "127.0.0.1",
    GATEHOUSE_GRPC_PORT: "0",
    GATEHOUSE_CONNECT_HOST: "127.0.0.1",
    GATEHOUSE_CONNECT_PORT: "0",
    GATEHOUSE_APPROVAL_PORT: "0",
    GATEHOUSE_METRICS_PORT: "0",
    // Info: the "gatehouse serving" line carries the start-up timeline (a handful of lines).
    GATEHOUSE_LOG_LEVEL: "info",
    GATEHOUSE_LIMIT_CHALLENGE_PER_IDENTITY: limit,
    GATEHOUSE_LIMIT_CHALLENGE_PER_ADDRESS: limit,
    GATEHOUSE_LIMIT_SUBMIT_PER_IDENTITY: limit,
    GATEHOUSE_LIMIT_SUBMIT_PER_ADDRESS: limit,
    REDIS_URL: redisUrl,
    GATEHOUSE_KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  };
}

/** Spawns the bundled `serve`; ready when its metrics listener's `/readyz` answers 200. */
async function startServer(env: NodeJS.ProcessEnv): Promise<Served> {
  const started = performance.now();
  const child = spawn(process.execPath, [...serverNodeFlags(), MAIN, "serve"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const grpcPort = Number(await waitFor(child, () => output, /grpc listening on [^\s]*:(\d+)/));
  const metrics = await waitFor(child, () => output, /metrics listening on (http:\/\/\S+)/);
  while ((await fetch(`${metrics}/readyz`).catch(() => undefined))?.status !== 200) {
    if (child.exitCode !== null) throw new Error(`serve exited:\n${output}`);
    await sleep(5);
  }
  const readyMs = round(performance.now() - started, 0);
  if (child.pid === undefined) throw new Error("serve has no pid");
  const serving = /^.*"msg":"gatehouse serving".*$/m.exec(output)?.[0];
  const startup = serving ? (JSON.parse(serving) as { startup?: Record<string, number> }) : {};
  return {
    pid: child.pid,
    grpcPort,
    readyMs,
    startup: startup.startup ?? {},
    async stop() {
      if (child.exitCode !== null) return;
      const gone = once(child, "exit");
      child.kill("SIGTERM");
      await gone;
    },
  };
}

async function waitFor(child: ChildProcess, text: () => string, pattern: RegExp): Promise<string> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const match = pattern.exec(text());
    if (match?.[1]) return match[1];
    if (child.exitCode !== null || performance.now() > deadline) {
      throw new Error(`serve did not print ${pattern}:\n${text()}`);
    }
    await sleep(5);
  }
}

/** utime + stime of the process (every thread), from /proc, in µs. */
async function cpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14 and 15
  return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
  return round((kib * 1024) / MIB, 1);
}

/** Each phase's median over several start-ups. */
function medianPhases(
  timelines: readonly Readonly<Record<string, number>>[],
): Record<string, number> {
  const names = Object.keys(timelines[0] ?? {});
  return Object.fromEntries(
    names.map((name) => [name, median(timelines.map((t) => t[name] ?? 0))]),
  );
}

/** The footprint's lines for the bench's report, each target beside its figure. */
export function footprintLines(f: Footprint): string[] {
  const s = f.sustained;
  const phases = (t: Readonly<Record<string, number>>) =>
    Object.entries(t)
      .map(([name, ms]) => `${name.replace(/Ms$/, "")} ${ms}`)
      .join(", ");
  const target = (met: boolean) => (met ? "met" : "MISSED");
  return [
    `\nFootprint (bundled server, one process, Redis store, ${f.node}${f.nodeFlags && ` ${f.nodeFlags}`}): ready ${f.firstStartMs} ms ` +
      `after spawn on an empty store, ${f.restartMs} ms on a restart (median); idle RSS ` +
      `${f.idleRssMiB} MiB; ${s.seconds} s of mixed load (${s.correct} correct of ${s.sent}): ` +
      `RSS start ${s.startMiB}, peak ${s.peakMiB}, end ${s.endMiB} MiB; idle again ${s.idleAfterMiB} MiB; ` +
      `server CPU ${s.serverCpuUsPerOp} µs per operation`,
    `  start-up timeline, ms (the server's own; boot = node, CLI, configuration, modules; cpu = ` +
      `process CPU at ready): first ${phases(f.firstStartup)}; restart (median) ${phases(f.restartStartup)}`,
    `Target: idle RSS ≤ 80 MiB: ${f.idleRssMiB} MiB (${target(f.idleRssMiB <= 80)}); ` +
      `RSS under load ≤ 200 MiB: peak ${s.peakMiB} MiB (${target(s.peakMiB <= 200)}); ` +
      `start-up ≤ 1000 ms: ${f.restartMs} ms on a restart (${target(f.restartMs <= 1000)})`,
  ];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
