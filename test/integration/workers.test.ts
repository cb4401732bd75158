import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { DEFAULTS } from "../../src/config/index.js";
import { ensureDevPki } from "../../src/pki/dev-pki.js";
import { enrollThroughLibrary } from "../support/cli-enroll.js";
import {
  type CliServer,
  isRunning,
  killCliProcesses,
  runCli,
  startCliServer,
} from "../support/cli-process.js";
import { AUDIENCE, type Enrolled, login } from "../support/flows.js";
import { scrape, total } from "../support/prometheus.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { rememberSecret } from "../support/secrets.js";

/**
 * `gatehouse serve --workers N` (src/app/workers.ts): N server processes behind one set of
 * ports, sharing a real redis-server. Each new connection goes to one worker, so the tests
 * use several connections and check what must hold whichever worker answers.
 */

const CONNECTIONS = 4;
const PROMPT_EXIT_MS = 10_000;
const PROPAGATION_DEADLINE_MS = 2_000;
const WORKER_LISTENING = /^gatehouse: worker (\d+) listening$/gm;
const METRICS_LISTENING = /^gatehouse: metrics listening on (http:\/\/\S+)$/m;
const VERIFIES_PER_CONNECTION = 5;

let dataDir: string;
let redis: RedisServer | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "gatehouse-workers-"));
});

afterEach(async () => {
  await killCliProcesses();
  await redis?.stop();
  redis = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

/** The TLS settings of `serve`, from a dev PKI made beforehand in the data dir. */
async function tlsEnv(): Promise<NodeJS.ProcessEnv> {
  const pki = await ensureDevPki(join(dataDir, "pki"), { trustDomain: DEFAULTS.trustDomain });
  return {
    GATEHOUSE_TLS_CERT: pki.server.certPath,
    GATEHOUSE_TLS_KEY: pki.server.keyPath,
    GATEHOUSE_TLS_CA: pki.ca.certPath,
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_GRPC_PORT: "0",
    GATEHOUSE_CONNECT_PORT: "0",
    GATEHOUSE_APPROVAL_PORT: "0",
    GATEHOUSE_METRICS_PORT: "0",
  };
}

async function startWorkers(count: number): Promise<CliServer> {
  redis = await startRedisServer();
  // Signing keys in Redis are sealed with it; the suite's log scan looks for it everywhere.
  const keyEncryptionKey = randomBytes(32).toString("base64");
  rememberSecret(keyEncryptionKey);
  const server = await startCliServer(["serve", "--workers", String(count)], {
    ...(await tlsEnv()),
    REDIS_URL: redis.url,
    GATEHOUSE_KEY_ENCRYPTION_KEY: keyEncryptionKey,
  });
  // The primary reports each worker on stderr before it announces the ports on stdout, but the
  // two pipes reach this process independently: wait until every worker's line has arrived.
  const everyWorker = Array.from({ length: count }, () => WORKER_LISTENING.source).join(
    "[\\s\\S]*",
  );
  await server.waitForOutput(new RegExp(everyWorker, "m"));
  return server;
}

function workerPids(server: CliServer): number[] {
  return [...server.output().matchAll(WORKER_LISTENING)].map((match) => Number(match[1]));
}

/** A verifier on `CONNECTIONS` connections of their own: the workers share them out. */
function verifiers(server: CliServer, agent: Enrolled) {
  return Array.from({ length: CONNECTIONS }, () =>
    createGrpcClient(VerifyService, { address: server.grpcAddress, tls: agent.verifierTls }),
  );
}

async function loginOnce(server: CliServer, agent: Enrolled): Promise<string> {
  const gate = createGrpcClient(GateService, { address: server.grpcAddress, tls: agent.agentTls });
  try {
    return await login(gate, agent);
  } finally {
    gate.close();
  }
}

describe("gatehouse serve --workers", () => {
  it("serves from several processes on one port, shares state, and drains them all", async () => {
    const server = await startWorkers(2);
    const pids = workerPids(server);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(process.pid);

    const agent = await enrollThroughLibrary(server.grpcAddress, dataDir);
    const token = await loginOnce(server, agent);
    const clients = verifiers(server, agent);
    const admin = createGrpcClient(RegistryService, {
      address: server.grpcAddress,
      tls: agent.adminTls,
    });
    try {
      for (const client of clients) {
        expect(await client.verify({ token, audience: AUDIENCE })).toMatchObject({
          allowed: true,
        });
      }
      // Revoked through one worker: every connection, whichever worker serves it, denies.
      const { tokenId } = await (clients[0] as (typeof clients)[0]).verify({
        token,
        audience: AUDIENCE,
      });
      await admin.revoke({ target: { case: "tokenId", value: tokenId } });
      const deadline = Date.now() + PROPAGATION_DEADLINE_MS;
      for (const client of clients) {
        let decision = await client.verify({ token, audience: AUDIENCE });
        while (decision.allowed && Date.now() < deadline) {
          await sleep(20);
          decision = await client.verify({ token, audience: AUDIENCE });
        }
        expect(decision).toMatchObject({ allowed: false, reason: Reason.TOKEN_REVOKED });
      }
    } finally {
      for (const client of clients) client.close();
      admin.close();
    }

    const stopped = await server.stop("SIGTERM");
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.ms).toBeLessThan(PROMPT_EXIT_MS);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    expect(server.output()).not.toContain(token);
  }, 120_000);

  it("reports the whole group on one metrics port: calls served by every worker, summed", async () => {
    const server = await startWorkers(2);
    const [, metricsUrl = ""] = await server.waitForOutput(METRICS_LISTENING);
    const agent = await enrollThroughLibrary(server.grpcAddress, dataDir);
    const token = await loginOnce(server, agent);
    // Four new connections, handed out in turn: each worker serves two of them.
    const clients = verifiers(server, agent);
    try {
      for (const client of clients) {
        for (let call = 0; call < VERIFIES_PER_CONNECTION; call++) {
          expect(await client.verify({ token, audience: AUDIENCE })).toMatchObject({
            allowed: true,
          });
        }
      }
    } finally {
      for (const client of clients) client.close();
    }

    // One scrape: a worker's own registry would show half of these.
    const samples = await scrape(metricsUrl);
    expect(
      total(samples, "gatehouse_rpc_requests_total", {
        transport: "grpc",
        method: "gatehouse.v1.VerifyService/Verify",
        code: "OK",
      }),
    ).toBe(CONNECTIONS * VERIFIES_PER_CONNECTION);
    expect(total(samples, "gatehouse_logins_total")).toBeGreaterThanOrEqual(1);
    expect(total(samples, "gatehouse_ready")).toBe(1);
    // The primary's and both workers' resident memory: more than any one process holds.
    const rss = total(samples, "process_resident_memory_bytes");
    expect(rss).toBeGreaterThan(3 * 30 * 2 ** 20);

    const ready = await fetch(`${metricsUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { workers: "ok", store: "ok", signing_keys: "ok", not_draining: "ok" },
    });
    expect(await server.stop("SIGTERM")).toMatchObject({ code: 0, signal: null });
  }, 120_000);

  it("replaces a worker that dies, and keeps serving meanwhile", async () => {
    const server = await startWorkers(2);
    const agent = await enrollThroughLibrary(server.grpcAddress, dataDir);
    const [victim, survivor] = workerPids(server) as [number, number];

    process.kill(victim, "SIGKILL");
    await server.waitForOutput(
      new RegExp(`^gatehouse: worker ${victim} exited \\(SIGKILL\\); starting another$`, "m"),
    );
    // New connections go to the survivor until the replacement listens, then to both.
    expect(await loginOnce(server, agent)).toMatch(/^ey/);
    await server.waitForOutput(
      new RegExp(`^gatehouse: worker (?!${victim}|${survivor})\\d+ listening$`, "m"),
    );
    expect(new Set(workerPids(server)).size).toBe(3);

    const token = await loginOnce(server, agent);
    const clients = verifiers(server, agent);
    try {
      for (const client of clients) {
        expect(await client.verify({ token, audience: AUDIENCE })).toMatchObject({
          allowed: true,
        });
      }
    } finally {
      for (const client of clients) client.close();
    }
    expect(await server.stop("SIGINT")).toMatchObject({ code: 0, signal: null });
  }, 120_000);

  it("stops everything, exit 1, when workers keep dying", async () => {
    const server = await startWorkers(2);
    const seen = new Set(workerPids(server));
    // More than 5 deaths within a minute: each time, the newest worker that listens.
    for (let death = 1; death <= 6; death++) {
      const victim = workerPids(server).at(-1) as number;
      process.kill(victim, "SIGKILL");
      if (death === 6) break;
      const [, next] = await server.waitForOutput(
        new RegExp(`^gatehouse: worker ((?!${[...seen].join("|")})\\d+) listening$`, "m"),
      );
      seen.add(Number(next));
    }
    await server.waitForOutput(
      /^gatehouse: worker \d+ exited \(SIGKILL\); 6 exits within 60 s, stopping$/m,
    );
    expect(await server.exited()).toEqual({ code: 1, signal: null });
    for (const pid of seen) expect(isRunning(pid)).toBe(false);
  }, 120_000);

  it("refuses more than one worker without Redis, and a bad count, exit 2", async () => {
    const env = await tlsEnv();
    const embedded = await runCli(["serve", "--workers", "2"], { env });
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toContain(
      'workers / GATEHOUSE_WORKERS: more than 1 needs store.kind "redis"',
    );

    const word = await runCli(["serve", "--workers", "two"], { env });
    expect(word.code).toBe(2);
    expect(word.stderr).toContain('--workers: must be a whole number, got "two"');

    const zero = await runCli(["serve"], { env: { ...env, GATEHOUSE_WORKERS: "0" } });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('GATEHOUSE_WORKERS: must be an integer 1..64, got "0"');
  }, 60_000);
});
