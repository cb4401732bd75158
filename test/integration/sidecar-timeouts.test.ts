import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientTls } from "../../clients/typescript/src/index.js";
import { closeWaitCount, unreadBytes } from "../support/proc-net-tcp.js";
import { eventually as eventuallyWithin, openRawSocket } from "../support/raw-socket.js";
import { LOGS_DIR } from "../support/secrets.js";
import { http1, http2Session, startTestSidecar, type TestSidecar } from "../support/sidecar.js";

/**
 * A whole sidecar (`startSidecar`, as `gatehouse sidecar` and `gatehouse dev` run it) with
 * short `request_timeout_ms` and `idle_timeout_ms`: silent connections do not lock its
 * `max_connections` out, idle ones are closed, Host is checked (RFC 9112 §3.2), and a client
 * leaving mid-body is no internal error. The listener's cases in detail:
 * test/unit/sidecar/connection-deadlines.test.ts.
 */

/** The idle bound. */
const DEADLINE_MS = 500;
/** Handshake, first head, whole request: room for a TLS handshake and an answer under load. */
const REQUEST_MS = 2_000;
const MAX_CONNECTIONS = 4;
/** "Closed within the bound": generous, for a loaded machine. */
const PATIENCE_MS = 15_000;

let t: TestSidecar;
let port: number;
let verifierTls: ClientTls;

beforeAll(async () => {
  t = await startTestSidecar({
    overrides: {
      sidecar: {
        requestTimeoutMs: REQUEST_MS,
        idleTimeoutMs: DEADLINE_MS,
        maxConnections: MAX_CONNECTIONS,
      },
    },
  });
  port = Number(new URL(t.url).port);
  verifierTls = await t.gh.clientTls({ role: "verifier", name: "timeouts-verifier" });
});

afterAll(async () => {
  await t?.stop();
});

/** A raw connection (TLS: HTTP/1.1 by ALPN, a client certificate when given). */
const rawConnection = (over: "tcp" | "tls", client?: ClientTls) =>
  openRawSocket(port, {
    patienceMs: PATIENCE_MS,
    ...(over === "tls"
      ? { tls: { ca: t.gh.caPem, ...(client ? { cert: client.cert, key: client.key } : {}) } }
      : {}),
  });

const eventually = (check: () => Promise<boolean>, what: string) =>
  eventuallyWithin(check, what, PATIENCE_MS);

/** This test process's log lines (test/support/sidecar.ts writes the sidecar's there). */
const LOG = join(LOGS_DIR, `${process.pid}.log`);
const logSize = async () => (await stat(LOG).catch(() => ({ size: 0 }))).size;
async function logLinesFrom(offset: number): Promise<{ level: number; msg: string }[]> {
  const text = (await readFile(LOG)).subarray(offset).toString();
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

describe("the sidecar's connection deadlines", () => {
  it("closes silent connections filling max_connections, leaves no CLOSE-WAIT, serves again", async () => {
    const silent = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS }, () => rawConnection("tcp")),
    );
    for (const connection of silent) expect(await connection.closedSoon()).toBe("");
    await eventually(async () => (await closeWaitCount(port)) === 0, "no CLOSE-WAIT");
    const health = await http1(t.gh.caPem, `${t.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it("closes an idle keep-alive HTTP/1.1 connection and an idle HTTP/2 one", async () => {
    const client = await rawConnection("tls");
    client.socket.write("GET /healthz HTTP/1.1\r\nhost: sidecar\r\n\r\n");
    expect(await client.closedSoon()).toMatch(/^HTTP\/1\.1 200 [\s\S]*connection: keep-alive/i);

    const session = http2Session(t.gh.caPem, t.url);
    const closed = new Promise<void>((resolve) => session.once("close", resolve));
    await Promise.race([
      closed,
      sleep(PATIENCE_MS).then(() => {
        throw new Error("the idle HTTP/2 session stayed open");
      }),
    ]);
  });

  it("answers an HTTP/1.1 request with no Host, or two, with a typed 400 (RFC 9112 §3.2)", async () => {
    for (const hosts of ["", "host: a\r\nhost: b\r\n"]) {
      const client = await rawConnection("tls");
      client.socket.write(`GET /healthz HTTP/1.1\r\n${hosts}\r\n`);
      const text = await client.closedSoon();
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4))).toMatchObject({
        reason: "REASON_INVALID_ARGUMENT",
      });
    }
  });

  it("logs a REST body the client abandoned at debug, not as an internal error", async () => {
    const offset = await logSize();
    const client = await rawConnection("tls", verifierTls);
    client.socket.write(
      "POST /v1/tokens:verify HTTP/1.1\r\nhost: sidecar\r\ncontent-type: application/json\r\n" +
        'content-length: 200\r\n\r\n{"token":',
    );
    await eventually(async () => (await unreadBytes(port)) === 0, "read by the sidecar");
    client.socket.destroy();
    await eventually(
      async () =>
        (await logLinesFrom(offset)).some(
          (line) => line.msg === "sidecar request aborted by the client",
        ),
      "the abort logged at debug",
    );
    const lines = await logLinesFrom(offset);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });
});
