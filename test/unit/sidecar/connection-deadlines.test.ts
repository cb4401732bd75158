import { mkdtemp, rm } from "node:fs/promises";
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/observability/logger.js";
import { ensureDevPki } from "../../../src/pki/dev-pki.js";
import { readBody } from "../../../src/sidecar/http-io.js";
import { type Listener, type ListenerOptions, listen } from "../../../src/sidecar/server.js";
import { closeWaitCount, unreadBytes } from "../../support/proc-net-tcp.js";
import { eventually as eventuallyWithin, openRawSocket } from "../../support/raw-socket.js";

/**
 * The sidecar listener (src/sidecar/server.ts, connection-deadlines.ts) against connections
 * that hold a slot without using it, over real sockets with short deadlines: none may stay
 * open past its bound, none may be left half-closed (CLOSE-WAIT), and their `maxConnections`
 * slots come back. Also RFC 9112 §3.2's Host checks and a client that leaves mid-body.
 */

/** The idle bound, and the handshake bound where nothing must succeed. */
const DEADLINE_MS = 400;
/**
 * The handshake, first-head and whole-request bound of the listeners whose requests must be
 * served: a TLS handshake and an answer fit in it on a loaded 2-core machine.
 */
const REQUEST_MS = 2_000;
const OPTIONS: ListenerOptions = {
  host: "127.0.0.1",
  port: 0,
  maxHeaderBytes: 16_384,
  requestTimeoutMs: REQUEST_MS,
  idleTimeoutMs: DEADLINE_MS,
  maxConnections: 100,
  shutdownGraceMs: 1_000,
  logger: createLogger("silent"),
};
/** "Closed within the bound": generous, for a loaded machine; the bounds are 0.4 and 2 s. */
const PATIENCE_MS = 10_000;

const listeners: Listener[] = [];
const sockets: Socket[] = [];
let pkiDir: string;
let tls: NonNullable<ListenerOptions["tls"]>;

beforeAll(async () => {
  pkiDir = await mkdtemp(join(tmpdir(), "gatehouse-deadlines-"));
  const pki = await ensureDevPki(pkiDir, { trustDomain: "gatehouse.test" });
  const pem = (text: string) => Buffer.from(text);
  tls = { cert: pem(pki.server.certPem), key: pem(pki.server.keyPem), ca: pem(pki.ca.certPem) };
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

afterAll(async () => {
  await rm(pkiDir, { recursive: true, force: true });
});

/** A listener whose routes answer 200 `ok`; `/body` reads the request body first. */
async function start(options: Partial<ListenerOptions> = {}): Promise<Listener> {
  const listener = await listen({ ...OPTIONS, ...options }, async (req, res, url) => {
    if (url.pathname === "/body") await readBody(req, 1_024);
    res.writeHead(200, { "content-length": 2 });
    res.end("ok");
    return true;
  });
  listeners.push(listener);
  return listener;
}

/** A raw connection (TLS: HTTP/1.1 by ALPN), closed after the test. */
async function rawConnection(port: number, over: "plain" | "tls" = "plain") {
  const connection = await openRawSocket(port, {
    patienceMs: PATIENCE_MS,
    ...(over === "tls" ? { tls } : {}),
  });
  sockets.push(connection.socket);
  return connection;
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    sleep(PATIENCE_MS).then(() => {
      throw new Error(`the server kept the ${what} open for ${PATIENCE_MS} ms`);
    }),
  ]);
}

const eventually = (check: () => boolean | Promise<boolean>, what: string) =>
  eventuallyWithin(check, what, PATIENCE_MS);

const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: sidecar\r\n\r\n`;

describe("the sidecar listener closes connections that hold a slot unused", () => {
  it("closes a TCP connection that never starts TLS, leaving nothing in CLOSE-WAIT", async () => {
    const listener = await start({ tls });
    const silent = await rawConnection(listener.port);
    expect(await silent.closedSoon()).toBe("");
    await eventually(async () => (await closeWaitCount(listener.port)) === 0, "no CLOSE-WAIT");
  });

  it("leaves no CLOSE-WAIT when the client leaves after the handshake deadline", async () => {
    // The leak the deadline must not bring back: at the handshake timeout, the socket was
    // ended (an HTTP/1.1 refusal queued behind a handshake never done), not destroyed, so it
    // stayed half-open and never closed once the client left.
    const listener = await start({ tls, requestTimeoutMs: DEADLINE_MS });
    const silent = await rawConnection(listener.port);
    await sleep(DEADLINE_MS * 3);
    silent.socket.destroy();
    await eventually(async () => (await closeWaitCount(listener.port)) === 0, "no CLOSE-WAIT");
  });

  it("gives the max_connections slots of silent connections back", async () => {
    const listener = await start({ tls, maxConnections: 2 });
    const silent = [await rawConnection(listener.port), await rawConnection(listener.port)];
    // Both slots are taken: a third connection is dropped at once.
    const refused = await rawConnection(listener.port);
    expect(await refused.closedSoon()).toBe("");
    await Promise.all(silent.map((connection) => connection.closedSoon()));
    const client = await rawConnection(listener.port, "tls");
    client.socket.write(get("/x"));
    await eventually(() => client.received().includes("\r\n\r\nok"), "an answer");
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it("closes an idle HTTP/1.1 keep-alive connection over TLS", async () => {
    const listener = await start({ tls });
    const client = await rawConnection(listener.port, "tls");
    client.socket.write(get("/x"));
    const text = await client.closedSoon();
    expect(text).toMatch(/^HTTP\/1\.1 200 [\s\S]*connection: keep-alive[\s\S]*\r\n\r\nok$/i);
  });

  it("cuts a request head trickled in, one header line at a time", async () => {
    const listener = await start({ tls });
    const client = await rawConnection(listener.port, "tls");
    client.socket.write("GET /x HTTP/1.1\r\nhost: sidecar\r\n");
    let line = 0;
    const trickle = setInterval(() => {
      if (!client.socket.destroyed) client.socket.write(`x-line-${line++}: 1\r\n`);
    }, DEADLINE_MS / 4);
    try {
      const text = await client.closedSoon();
      expect(text).not.toMatch(/ 200 /);
    } finally {
      clearInterval(trickle);
    }
  });

  it("closes an HTTP/2 connection that opens no stream, and one idle after its stream", async () => {
    const listener = await start({ tls });
    for (const requests of [0, 1]) {
      const session = http2.connect(`https://127.0.0.1:${listener.port}`, { ca: tls.ca });
      session.on("error", () => {});
      const closed = new Promise<void>((resolve) => session.once("close", resolve));
      const goaway = new Promise<number>((resolve) => session.once("goaway", resolve));
      if (requests === 1) {
        const stream = session.request({ ":path": "/x" });
        stream.resume();
        await new Promise((resolve) => stream.once("close", resolve));
        expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      }
      expect(await within(goaway, "HTTP/2 connection")).toBe(http2.constants.NGHTTP2_NO_ERROR);
      await within(closed, "HTTP/2 connection");
    }
  });
});

describe("the sidecar listener's Host checks (RFC 9112 §3.2)", () => {
  const cases = [
    ["no Host", "GET /x HTTP/1.1\r\n\r\n"],
    ["two Host field lines", "GET /x HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n"],
    ["two Host field lines, HTTP/1.0", "GET /x HTTP/1.0\r\nhost: a\r\nHost: a\r\n\r\n"],
  ] as const;
  for (const over of ["plain", "tls"] as const) {
    for (const [name, request] of cases) {
      it(`answers ${name} with a typed 400, then closes (${over})`, async () => {
        const listener = await start(over === "tls" ? { tls } : {});
        const client = await rawConnection(listener.port, over);
        client.socket.write(request);
        const text = await client.closedSoon();
        expect(text).toMatch(/^HTTP\/1\.1 400 /);
        const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
        expect(body).toMatchObject({ code: "invalid_argument", reason: "REASON_INVALID_ARGUMENT" });
      });
    }
  }

  it("serves HTTP/1.0 without Host, and HTTP/1.1 with one", async () => {
    const listener = await start();
    for (const request of ["GET /x HTTP/1.0\r\n\r\n", get("/x")]) {
      const client = await rawConnection(listener.port);
      client.socket.write(request);
      await eventually(() => client.received().endsWith("\r\n\r\nok"), "an answer");
      expect(client.received()).toMatch(/^HTTP\/1\.[01] 200 /);
    }
  });
});

describe("a client that leaves in the middle of its request body", () => {
  it("is logged at debug, not as an internal error, and gets no answer", async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = createLogger(
      "debug",
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    );
    for (const over of ["plain", "tls"] as const) {
      const listener = await start({ ...(over === "tls" ? { tls } : {}), logger });
      const client = await rawConnection(listener.port, over);
      client.socket.write("POST /body HTTP/1.1\r\nhost: sidecar\r\ncontent-length: 100\r\n\r\n{");
      // Once the server has read it, the request is being served, its body awaited.
      await eventually(async () => (await unreadBytes(listener.port)) === 0, "read by the server");
      client.socket.destroy();
    }
    await eventually(
      () =>
        lines.filter((line) => line.msg === "sidecar request aborted by the client").length === 2,
      "both aborts logged at debug",
    );
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });
});
