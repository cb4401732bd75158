import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import type * as http2 from "node:http2";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify as stringifyToml } from "smol-toml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CliProcess,
  killCliProcesses,
  runCli,
  startCli,
  stillRunning,
} from "../support/cli-process.js";
import { AUDIENCE, type Enrolled, enrollAgent, grpcClients, login } from "../support/flows.js";
import {
  ISSUER,
  startTestGatehouse,
  type TestGatehouse,
  type TestGatehouseOptions,
  TRUST_DOMAIN,
} from "../support/gatehouse.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { rememberSecret } from "../support/secrets.js";
import { h2, http1, http2Session, ORDERS_ROUTE, ordersForwardAuth } from "../support/sidecar.js";
import { socketOwners } from "../support/socket-owners.js";

/**
 * `gatehouse sidecar --workers N` (src/cli/sidecar-command.ts, src/app/workers.ts): N sidecar
 * processes on one port, run as the CLI runs them, in front of a real Gatehouse over gRPC.
 * Each new connection goes to one worker, so the tests open several.
 */

const WORKER_LISTENING = /^gatehouse: sidecar worker (\d+) listening$/gm;
const SIDECAR_LISTENING = /^gatehouse: sidecar listening on (https:\/\/\S+)$/gm;
const CONNECTIONS = 4;
const PROMPT_EXIT_MS = 10_000;
const PROPAGATION_DEADLINE_MS = 5_000;

/** A Gatehouse trusting the sidecar as a proxy, an agent, its token, and the routes file. */
interface Backend {
  readonly gh: TestGatehouse;
  readonly agent: Enrolled;
  readonly token: string;
  readonly hmacSecret: string;
  readonly configFile: string;
  /** The sidecar's own settings beyond the upstream's (e.g. the replica verifier). */
  readonly env: NodeJS.ProcessEnv;
}

async function startBackend(
  options: Partial<Pick<TestGatehouseOptions, "storeKind" | "redisUrl">> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<Backend> {
  const hmacSecret = randomBytes(32).toString("base64url");
  rememberSecret(hmacSecret);
  const gh = await startTestGatehouse({
    ...options,
    overrides: {
      proxy: { enabled: true, trustedPeers: ["127.0.0.1"], hmacSecret, maxAgeSeconds: 30 },
    },
  });
  const agent = await enrollAgent(gh);
  const clients = grpcClients(gh, agent.agentTls);
  let token: string;
  try {
    token = await login(clients.gate, agent);
  } finally {
    clients.close();
  }
  // Forward-auth routes are file only.
  const configFile = join(gh.dataDir, "sidecar.toml");
  await writeFile(configFile, stringifyToml({ sidecar: { routes: [ORDERS_ROUTE] } }));
  return { gh, agent, token, hmacSecret, configFile, env };
}

afterEach(async () => {
  await killCliProcesses();
});

/** The sidecar CLI in dev mode (Gatehouse's dev PKI), trusted by Gatehouse as a proxy. */
function sidecarEnv(backend: Backend): NodeJS.ProcessEnv {
  return {
    GATEHOUSE_ISSUER: ISSUER,
    GATEHOUSE_TRUST_DOMAIN: TRUST_DOMAIN,
    GATEHOUSE_PROXY_ENABLED: "true",
    GATEHOUSE_PROXY_TRUSTED_PEERS: "127.0.0.1",
    GATEHOUSE_PROXY_HMAC_SECRET: backend.hmacSecret,
    GATEHOUSE_SIDECAR_UPSTREAM: backend.gh.grpcAddress,
    GATEHOUSE_SIDECAR_PORT: "0",
    ...backend.env,
  };
}

/** `gatehouse sidecar` in dev mode on Gatehouse's data dir (its dev PKI), with the routes file. */
function sidecarArgs(backend: Backend, ...more: string[]): string[] {
  const files = ["--data-dir", backend.gh.dataDir, "--config", backend.configFile];
  return ["sidecar", "--mode", "dev", ...files, ...more];
}

interface Started {
  readonly sidecar: CliProcess;
  readonly url: string;
  readonly pids: number[];
}

async function startSidecarWorkers(backend: Backend, count: number): Promise<Started> {
  const sidecar = startCli(sidecarArgs(backend, "--workers", String(count)), sidecarEnv(backend));
  // The announcement (stdout) and the workers' lines (stderr) arrive on separate pipes.
  const [, url = ""] = await sidecar.waitForOutput(new RegExp(SIDECAR_LISTENING.source, "m"));
  const everyWorker = Array.from({ length: count }, () => WORKER_LISTENING.source).join(
    "[\\s\\S]*",
  );
  await sidecar.waitForOutput(new RegExp(everyWorker, "m"));
  return { sidecar, url, pids: workerPids(sidecar) };
}

function workerPids(sidecar: CliProcess): number[] {
  return [...sidecar.output().matchAll(WORKER_LISTENING)].map((match) => Number(match[1]));
}

const forwardAuth = ({ gh, token }: Backend, url: string) =>
  http1(gh.caPem, `${url}/auth`, ordersForwardAuth(token));

const restVerify = ({ gh, agent, token }: Backend, url: string) =>
  http1(gh.caPem, `${url}/v1/tokens:verify`, {
    method: "POST",
    body: JSON.stringify({ token, audience: AUDIENCE, requiredScopes: ["orders:read"] }),
    tls: agent.verifierTls,
  });

describe("gatehouse sidecar --workers (upstream verifier)", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend?.gh.dispose();
  });

  it("runs one process by default: no workers, the same announcement, exit 0 on SIGTERM", async () => {
    const sidecar = startCli(sidecarArgs(backend), sidecarEnv(backend));
    const [, url = ""] = await sidecar.waitForOutput(new RegExp(SIDECAR_LISTENING.source, "m"));
    expect((await forwardAuth(backend, url)).status).toBe(200);
    expect(await sidecar.stop("SIGTERM")).toMatchObject({ code: 0, signal: null });
    expect(sidecar.output()).not.toMatch(new RegExp(WORKER_LISTENING.source, "m"));
  }, 60_000);

  it("serves from two processes on one port, announces once, and stops them all", async () => {
    const { gh, agent, token } = backend;
    const { sidecar, url, pids } = await startSidecarWorkers(backend, 2);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(sidecar.pid);
    // One announcement for scripts, identical to the one-process sidecar's.
    expect([...sidecar.output().matchAll(SIDECAR_LISTENING)]).toHaveLength(1);

    // Connections handed out in turn, held open: each worker holds some of them.
    const sessions: http2.ClientHttp2Session[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i++) {
        const session = http2Session(gh.caPem, url);
        sessions.push(session);
        const jwks = await h2(session, "/.well-known/jwks.json");
        expect(jwks.status, jwks.text).toBe(200);
        expect((jwks.json() as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
      }
      const owners = await socketOwners(Number(new URL(url).port), pids);
      expect([...owners].sort()).toEqual([...pids].sort());
    } finally {
      for (const session of sessions) session.close();
    }

    // Forward-auth and REST Verify, each on fresh connections (so through both workers).
    for (let i = 0; i < CONNECTIONS; i++) {
      const allowed = await forwardAuth(backend, url);
      expect(allowed.status, allowed.text).toBe(200);
      expect(allowed.headers["x-gatehouse-agent"]).toBe(agent.did);
      const verified = await restVerify(backend, url);
      expect(verified.status, verified.text).toBe(200);
      expect(verified.json()).toMatchObject({ allowed: true, agentDid: agent.did });
    }

    const stopped = await sidecar.stop("SIGTERM");
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.ms).toBeLessThan(PROMPT_EXIT_MS);
    expect(await stillRunning(pids)).toEqual([]);
    expect(sidecar.output()).toContain("gatehouse: SIGTERM received; draining 2 sidecar workers");
    expect(sidecar.output()).not.toContain(token);
  }, 120_000);

  it("replaces a worker that dies, and keeps serving meanwhile", async () => {
    const { sidecar, url, pids } = await startSidecarWorkers(backend, 2);
    const [victim, survivor] = pids as [number, number];

    process.kill(victim, "SIGKILL");
    await sidecar.waitForOutput(
      new RegExp(
        `^gatehouse: sidecar worker ${victim} exited \\(SIGKILL\\); starting another$`,
        "m",
      ),
    );
    // New connections go to the survivor until the replacement listens, then to both.
    expect((await http1(backend.gh.caPem, `${url}/healthz`)).status).toBe(200);
    const [, replacement] = await sidecar.waitForOutput(
      new RegExp(`^gatehouse: sidecar worker ((?!${victim}|${survivor})\\d+) listening$`, "m"),
    );
    const live = [survivor, Number(replacement)];
    for (let i = 0; i < CONNECTIONS; i++) {
      expect((await forwardAuth(backend, url)).status).toBe(200);
    }
    // Still one announcement: a replacement is not news for scripts.
    expect([...sidecar.output().matchAll(SIDECAR_LISTENING)]).toHaveLength(1);

    expect(await sidecar.stop("SIGINT")).toMatchObject({ code: 0, signal: null });
    expect(await stillRunning(live)).toEqual([]);
  }, 120_000);

  it("never leaves a worker behind its primary, even a primary killed outright", async () => {
    const { sidecar, pids } = await startSidecarWorkers(backend, 2);
    expect(await sidecar.stop("SIGKILL")).toMatchObject({ signal: "SIGKILL" });
    // Their IPC channel closed: each worker stops by itself.
    expect(await stillRunning(pids)).toEqual([]);
  }, 120_000);

  it("refuses a worker count out of 1..64 or not a number, exit 2, naming the flag", async () => {
    const args = sidecarArgs(backend);
    for (const [value, problem] of [
      ["0", "--workers: must be an integer 1..64, got 0"],
      ["65", "--workers: must be an integer 1..64, got 65"],
      ["two", '--workers: must be a whole number, got "two"'],
    ] as const) {
      const run = await runCli([...args, "--workers", value], { env: sidecarEnv(backend) });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(problem);
    }
    const env = { ...sidecarEnv(backend), GATEHOUSE_SIDECAR_WORKERS: "65" };
    const fromEnv = await runCli(args, { env });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain(
      'GATEHOUSE_SIDECAR_WORKERS: must be an integer 1..64, got "65"',
    );
  }, 60_000);
});

describe("gatehouse sidecar --workers (replica verifier)", () => {
  let redis: RedisServer;
  let backend: Backend;
  beforeAll(async () => {
    redis = await startRedisServer();
    backend = await startBackend(
      { storeKind: "redis", redisUrl: redis.url },
      { REDIS_URL: redis.url, GATEHOUSE_SIDECAR_VERIFIER: "replica" },
    );
  });
  afterAll(async () => {
    await backend?.gh.dispose();
    await redis?.stop();
  });

  it("runs a verifier replica in each worker, and sees a revocation in every one", async () => {
    const { gh, agent, token } = backend;
    const { sidecar, url, pids } = await startSidecarWorkers(backend, 2);
    expect(new Set(pids).size).toBe(2);
    for (let i = 0; i < CONNECTIONS; i++) {
      const allowed = await forwardAuth(backend, url);
      expect(allowed.status, allowed.text).toBe(200);
      expect(allowed.headers["x-gatehouse-agent"]).toBe(agent.did);
    }
    // Revoked on Gatehouse: each worker's replica hears it on the store's invalidation bus.
    const operator = grpcClients(gh, agent.operatorTls);
    try {
      await operator.registry.revoke({ target: { case: "tokenId", value: jtiOf(token) } });
    } finally {
      operator.close();
    }
    const until = Date.now() + PROPAGATION_DEADLINE_MS;
    let denied = 0;
    while (denied < CONNECTIONS && Date.now() < until) {
      denied = (await forwardAuth(backend, url)).status === 401 ? denied + 1 : 0;
      if (denied === 0) await sleep(20);
    }
    expect(denied).toBe(CONNECTIONS);

    expect(await sidecar.stop("SIGTERM")).toMatchObject({ code: 0, signal: null });
    expect(await stillRunning(pids)).toEqual([]);
  }, 120_000);
});

function jtiOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
  return String(payload.jti);
}
