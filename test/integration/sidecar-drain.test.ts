import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as http2 from "node:http2";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as connectTls } from "node:tls";
import { stringify as stringifyToml } from "smol-toml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { enrollThroughLibrary } from "../support/cli-enroll.js";
import {
  type CliProcess,
  type CliServer,
  isRunning,
  killCliProcesses,
  startCli,
  startCliServer,
  stillRunning,
} from "../support/cli-process.js";
import { AUDIENCE, type Enrolled, grpcClients, login } from "../support/flows.js";
import { unreadBytes } from "../support/proc-net-tcp.js";
import { openRawHttp1 } from "../support/raw-http1.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { rememberSecret } from "../support/secrets.js";
import { h2, http2Session, ORDERS_ROUTE, ordersForwardAuth } from "../support/sidecar.js";
import { socketOwners } from "../support/socket-owners.js";

/**
 * `gatehouse sidecar` stops by draining (src/sidecar/drain.ts), run as the CLI runs it in front
 * of a Gatehouse that is a process of its own (`gatehouse dev`): SIGSTOP on Gatehouse holds the
 * sidecar's requests in flight (in upstream mode each waits on Gatehouse), nothing mocked.
 * A request counts as in flight once its call to Gatehouse waits in Gatehouse's receive queue.
 */

/** Longer than any test waits: a drain that ends before it ended because its requests did. */
const LONG_GRACE_MS = 30_000;
const SHORT_GRACE_MS = 1_000;
/** Ample for the sidecar to read bytes already sent to it, on a loaded machine. */
const SETTLE_MS = 500;
/** Bound on anything awaited (a loaded 2-core machine): far above what it takes. */
const PATIENCE_MS = 20_000;
const SIDECAR_LISTENING = /^gatehouse: sidecar listening on (\S+)$/m;
const WORKER_LISTENING = /^gatehouse: sidecar worker (\d+) listening$/gm;

let dataDir: string;
let gatehouse: CliServer;
let grpcPort: number;
let ca: string;
let agent: Enrolled;
let token: string;
let proxyEnv: NodeJS.ProcessEnv;
const sidecars: CliProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "gatehouse-sidecar-drain-"));
  const hmacSecret = randomBytes(32).toString("base64url");
  rememberSecret(hmacSecret);
  proxyEnv = {
    GATEHOUSE_PROXY_ENABLED: "true",
    GATEHOUSE_PROXY_TRUSTED_PEERS: "127.0.0.1",
    GATEHOUSE_PROXY_HMAC_SECRET: hmacSecret,
  };
  const ports = ["--grpc-port", "0", "--connect-port", "0", "--sidecar-port", "0"];
  gatehouse = await startCliServer(["dev", "--data-dir", dataDir, ...ports], {
    ...proxyEnv,
    GATEHOUSE_APPROVAL_PORT: "0",
    GATEHOUSE_METRICS_PORT: "0",
  });
  grpcPort = Number(gatehouse.grpcAddress.split(":").at(-1));
  agent = await enrollThroughLibrary(gatehouse.grpcAddress, dataDir);
  const clients = grpcClients(gatehouse, agent.agentTls);
  try {
    token = await login(clients.gate, agent);
  } finally {
    clients.close();
  }
  ca = await readFile(join(dataDir, "pki", "ca.pem"), "utf8");
  for (const [name, graceMs] of [
    ["long", LONG_GRACE_MS],
    ["short", SHORT_GRACE_MS],
  ] as const) {
    await writeFile(join(dataDir, `${name}.toml`), sidecarConfig(graceMs));
  }
}, 120_000);

afterEach(async () => {
  resumeGatehouse();
  await Promise.all(sidecars.splice(0).map((sidecar) => sidecar.stop("SIGKILL")));
});

afterAll(async () => {
  await killCliProcesses();
  await rm(dataDir, { recursive: true, force: true });
});

/** The forward-auth route and the drain's grace: both are file settings only. */
function sidecarConfig(graceMs: number): string {
  return stringifyToml({ shutdown_grace_ms: graceMs, sidecar: { routes: [ORDERS_ROUTE] } });
}

interface Started {
  readonly process: CliProcess;
  readonly url: string;
  readonly port: number;
}

/** `gatehouse sidecar` in dev mode on Gatehouse's dev PKI, in upstream mode. */
async function startSidecar(
  grace: "long" | "short",
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<Started> {
  const files = ["--data-dir", dataDir, "--config", join(dataDir, `${grace}.toml`)];
  const cli = startCli(["sidecar", "--mode", "dev", ...files, ...args], {
    ...proxyEnv,
    GATEHOUSE_SIDECAR_UPSTREAM: gatehouse.grpcAddress,
    GATEHOUSE_SIDECAR_PORT: "0",
    // Held requests are cut by the drain alone, never by these deadlines.
    GATEHOUSE_SIDECAR_UPSTREAM_TIMEOUT_MS: "60000",
    GATEHOUSE_SIDECAR_REQUEST_TIMEOUT_MS: "60000",
    ...env,
  });
  sidecars.push(cli);
  const [, url = ""] = await cli.waitForOutput(SIDECAR_LISTENING);
  return { process: cli, url, port: Number(new URL(url).port) };
}

function pauseGatehouse(): void {
  process.kill(gatehouse.pid, "SIGSTOP");
}

function resumeGatehouse(): void {
  process.kill(gatehouse.pid, "SIGCONT");
}

const forwardAuth = () => ordersForwardAuth(token);

const restVerify = () => ({
  method: "POST",
  body: JSON.stringify({ token, audience: AUDIENCE, requiredScopes: ["orders:read"] }),
});

/**
 * Sends a request while Gatehouse is stopped and returns once the sidecar has passed it on
 * (its call waits unread in Gatehouse's receive queue): the answer is still to come.
 */
async function held<T>(send: () => Promise<T>): Promise<{ readonly answer: Promise<T> }> {
  const before = await unreadBytes(grpcPort);
  const answer = send();
  answer.catch(() => {}); // the test awaits it later; until then a rejection is not unhandled
  await until(async () => (await unreadBytes(grpcPort)) > before, "the call reached Gatehouse");
  return { answer };
}

async function until(holds: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`not within ${PATIENCE_MS} ms: ${what}`);
    await sleep(50);
  }
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    sleep(PATIENCE_MS).then(() => {
      throw new Error(`not within ${PATIENCE_MS} ms: ${what}`);
    }),
  ]);
}

/** Whether a new TCP connection to `port` is refused (no listener left). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

const listenerClosed = (port: number) => until(() => refused(port), `port ${port} refuses`);

describe("gatehouse sidecar stops by draining", () => {
  it("HTTP/2: GOAWAY at once, no new connection, the streams in flight complete, exit 0", async () => {
    const sidecar = await startSidecar("long");
    const session = http2Session(ca, sidecar.url, agent.verifierTls);
    try {
      // The channel to Gatehouse is open before Gatehouse stops.
      expect((await h2(session, "/auth", forwardAuth())).status).toBe(200);
      const goaway = new Promise<number>((resolve) => session.once("goaway", resolve));
      pauseGatehouse();
      const auth = await held(() => h2(session, "/auth", forwardAuth()));
      const verify = await held(() => h2(session, "/v1/tokens:verify", restVerify()));
      const ready = await held(() => h2(session, "/readyz"));

      process.kill(sidecar.process.pid, "SIGTERM");
      expect(await within(goaway, "GOAWAY")).toBe(http2.constants.NGHTTP2_NO_ERROR);
      await listenerClosed(sidecar.port);
      expect(isRunning(sidecar.process.pid)).toBe(true); // its streams still wait on Gatehouse

      resumeGatehouse();
      const allowed = await auth.answer;
      expect(allowed.status, allowed.text).toBe(200);
      expect(allowed.headers["x-gatehouse-agent"]).toBe(agent.did);
      const verified = await verify.answer;
      expect(verified.status, verified.text).toBe(200);
      expect(verified.json()).toMatchObject({ allowed: true, agentDid: agent.did });
      // A probe answered during the drain says not ready.
      expect((await ready.answer).status).toBe(503);
      expect(await within(sidecar.process.exited(), "exit")).toEqual({ code: 0, signal: null });
      expect(sidecar.process.output()).toContain(
        `SIGTERM received; draining the sidecar (at most ${LONG_GRACE_MS} ms)`,
      );
    } finally {
      session.destroy();
    }
  }, 120_000);

  for (const [transport, env] of [
    ["TLS (HTTP/2 server, HTTP/1.1 by ALPN)", {}],
    ["plain HTTP", { GATEHOUSE_SIDECAR_PLAIN_HTTP: "true" }],
  ] as const) {
    it(`HTTP/1.1 over ${transport}: idle connections close at once, a busy one after its answer (connection: close)`, async () => {
      const sidecar = await startSidecar("long", [], env);
      const idle = await openRawHttp1(sidecar.url, ca);
      const busy = await openRawHttp1(sidecar.url, ca);
      const probe = await openRawHttp1(sidecar.url, ca);
      try {
        expect((await idle.request("/healthz")).status).toBe(200);
        const before = await busy.request("/auth", forwardAuth());
        expect(before.status, before.text).toBe(200);
        expect(before.headers.connection).not.toBe("close");
        pauseGatehouse();
        const auth = await held(() => busy.request("/auth", forwardAuth()));
        const ready = await held(() => probe.request("/readyz"));

        process.kill(sidecar.process.pid, "SIGTERM");
        // Closed while the busy connections still wait on Gatehouse.
        await within(idle.closed, "the idle connection closed");
        await listenerClosed(sidecar.port);
        expect(isRunning(sidecar.process.pid)).toBe(true);

        resumeGatehouse();
        const allowed = await auth.answer;
        expect(allowed.status, allowed.text).toBe(200);
        expect(allowed.headers["x-gatehouse-agent"]).toBe(agent.did);
        expect(allowed.headers.connection).toBe("close"); // RFC 9112 §9.6
        const notReady = await ready.answer;
        expect(notReady.status).toBe(503);
        expect(notReady.headers.connection).toBe("close");
        // The server closes them: this client never does by itself.
        await within(busy.closed, "the busy connection closed");
        await within(probe.closed, "the probe's connection closed");
        expect(await within(sidecar.process.exited(), "exit")).toEqual({ code: 0, signal: null });
      } finally {
        for (const connection of [idle, busy, probe]) connection.close();
      }
    }, 120_000);
  }

  it("cuts what is still in flight after shutdown_grace_ms, and exits 0", async () => {
    const sidecar = await startSidecar("short");
    const busy = await openRawHttp1(sidecar.url, ca);
    const session = http2Session(ca, sidecar.url);
    try {
      expect((await busy.request("/auth", forwardAuth())).status).toBe(200);
      expect((await h2(session, "/auth", forwardAuth())).status).toBe(200);
      pauseGatehouse();
      const overHttp1 = await held(() => busy.request("/auth", forwardAuth()));
      const overHttp2 = await held(() => h2(session, "/auth", forwardAuth()));

      const signalled = performance.now();
      process.kill(sidecar.process.pid, "SIGTERM");
      // Gatehouse is still stopped: only the deadline can end these requests.
      expect(await within(sidecar.process.exited(), "exit")).toEqual({ code: 0, signal: null });
      expect(performance.now() - signalled).toBeGreaterThanOrEqual(SHORT_GRACE_MS);
      expect(sidecar.process.output()).toMatch(/sidecar drain: grace over; cutting/);
      await expect(overHttp1.answer).rejects.toThrow(/closed before an answer/);
      // A stream cut before its answer: h2() reports no status (or fails outright).
      expect(
        await overHttp2.answer.then(
          ({ status }) => status,
          () => 0,
        ),
      ).toBe(0);
    } finally {
      resumeGatehouse();
      busy.close();
      session.destroy();
    }
  }, 120_000);

  it("--workers 2: each worker drains on its primary's stop, and all exit", async () => {
    const sidecar = await startSidecar("long", ["--workers", "2"]);
    const everyWorker = new RegExp(
      `${WORKER_LISTENING.source}[\\s\\S]*${WORKER_LISTENING.source}`,
      "m",
    );
    await sidecar.process.waitForOutput(everyWorker);
    const pids = [...sidecar.process.output().matchAll(WORKER_LISTENING)].map(([, pid]) =>
      Number(pid),
    );
    // Connections are handed to the workers in turn: each worker holds some of them.
    const sessions = Array.from({ length: 4 }, () => http2Session(ca, sidecar.url));
    try {
      for (const session of sessions) {
        expect((await h2(session, "/auth", forwardAuth())).status).toBe(200);
      }
      expect([...(await socketOwners(sidecar.port, pids))].sort()).toEqual([...pids].sort());
      const goaways = sessions.map(
        (session) => new Promise<number>((resolve) => session.once("goaway", resolve)),
      );
      pauseGatehouse();
      const inFlight = [];
      for (const session of sessions)
        inFlight.push(await held(() => h2(session, "/auth", forwardAuth())));

      process.kill(sidecar.process.pid, "SIGTERM");
      await within(Promise.all(goaways), "GOAWAY on every connection");
      await listenerClosed(sidecar.port);
      expect(pids.filter(isRunning)).toEqual(pids);

      resumeGatehouse();
      for (const { answer } of inFlight) {
        const allowed = await answer;
        expect(allowed.status, allowed.text).toBe(200);
        expect(allowed.headers["x-gatehouse-agent"]).toBe(agent.did);
      }
      expect(await within(sidecar.process.exited(), "exit")).toEqual({ code: 0, signal: null });
      expect(await stillRunning(pids)).toEqual([]);
    } finally {
      for (const session of sessions) session.destroy();
    }
  }, 120_000);
});

describe("gatehouse dev drains its sidecar before its server", () => {
  let redis: RedisServer | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  // One process; or a primary on Redis (`workers`), its sidecar beside the server workers.
  for (const workers of [1, 2]) {
    it(`${workers === 1 ? "one process" : "a primary of 2 workers"}: a request still arriving at SIGTERM is answered (Gatehouse still serves it), then exit 0`, async () => {
      const devDir = await mkdtemp(join(tmpdir(), "gatehouse-dev-drain-"));
      try {
        const ports = ["--grpc-port", "0", "--connect-port", "0", "--sidecar-port", "0"];
        if (workers > 1) redis ??= await startRedisServer();
        const dev = await startCliServer(["dev", "--data-dir", devDir, ...ports], {
          GATEHOUSE_APPROVAL_PORT: "0",
          GATEHOUSE_METRICS_PORT: "0",
          ...(redis && workers > 1 && { REDIS_URL: redis.url, GATEHOUSE_WORKERS: String(workers) }),
        });
        const [, url = ""] = await dev.waitForOutput(SIDECAR_LISTENING);
        const devAgent = await enrollThroughLibrary(dev.grpcAddress, devDir);
        const clients = grpcClients(dev, devAgent.agentTls);
        const devToken = await login(clients.gate, devAgent).finally(() => clients.close());
        const body = JSON.stringify({
          token: devToken,
          audience: AUDIENCE,
          requiredScopes: ["orders:read"],
        });
        const { hostname, port } = new URL(url);
        const socket = connectTls({
          host: hostname,
          port: Number(port),
          ALPNProtocols: ["http/1.1"],
          ...devAgent.verifierTls, // its CA, and the verifier's certificate REST Verify asks for
        });
        const chunks: Buffer[] = [];
        socket.on("data", (chunk: Buffer) => chunks.push(chunk));
        const closed = new Promise<string>((resolve) =>
          socket.once("close", () => resolve(Buffer.concat(chunks).toString())),
        );
        await within(once(socket, "secureConnect"), "the TLS handshake");
        const half = Math.floor(body.length / 2);
        socket.write(
          "POST /v1/tokens:verify HTTP/1.1\r\nhost: sidecar\r\n" +
            `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n` +
            body.slice(0, half),
        );
        // Read by the sidecar before the signal, so the connection is not an idle one.
        await sleep(SETTLE_MS);

        process.kill(dev.pid, "SIGTERM");
        await dev.waitForOutput(/SIGTERM received; draining/);
        await listenerClosed(Number(port));
        socket.write(body.slice(half)); // the rest of the body, after the drain began

        const answer = await within(closed, "the answer and the connection's close");
        const [head = "", text = ""] = answer.split("\r\n\r\n");
        expect(head, answer).toMatch(/^HTTP\/1\.1 200 /);
        expect(head.toLowerCase()).toContain("connection: close");
        expect(JSON.parse(text)).toMatchObject({ allowed: true, agentDid: devAgent.did });
        expect(await within(dev.exited(), "exit")).toEqual({ code: 0, signal: null });
      } finally {
        await rm(devDir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
