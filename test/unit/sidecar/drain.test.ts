import { mkdtemp, rm } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/observability/logger.js";
import { ensureDevPki } from "../../../src/pki/dev-pki.js";
import { type Listener, type ListenerOptions, listen } from "../../../src/sidecar/server.js";
import { unreadBytes } from "../../support/proc-net-tcp.js";
import { eventually, openRawSocket } from "../../support/raw-socket.js";

/**
 * The listener's drain (src/sidecar/drain.ts) in the cases a whole sidecar cannot be steered
 * into: pipelined requests, a header section still arriving, an answer already streaming, a
 * TLS handshake that never ends. Real sockets, a route handler the test holds.
 */

const PLAIN: ListenerOptions = {
  host: "127.0.0.1",
  port: 0,
  maxHeaderBytes: 16_384,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxConnections: 100,
  shutdownGraceMs: 30_000,
  logger: createLogger("silent"),
};
/** Long enough for the server to have read what the test sent, on a loaded machine. */
const SETTLE_MS = 200;
/** Far beyond what a drain takes here, far below the grace of PLAIN. */
const PATIENCE_MS = 10_000;

let release: () => void = () => {};
let served: string[] = [];
const listeners: Listener[] = [];
let pkiDir: string;
let tls: NonNullable<ListenerOptions["tls"]>;

beforeAll(async () => {
  pkiDir = await mkdtemp(join(tmpdir(), "gatehouse-drain-"));
  const pki = await ensureDevPki(pkiDir, { trustDomain: "gatehouse.test" });
  const pem = (text: string) => Buffer.from(text);
  tls = { cert: pem(pki.server.certPem), key: pem(pki.server.keyPem), ca: pem(pki.ca.certPem) };
});

afterEach(async () => {
  release();
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

afterAll(async () => {
  await rm(pkiDir, { recursive: true, force: true });
});

/** `/hold` answers once the test calls `release`; `/stream` sends its head at once, its end then. */
async function start(options: Partial<ListenerOptions> = {}): Promise<Listener> {
  served = [];
  let held: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    held = resolve;
  });
  release = held;
  const listener = await listen({ ...PLAIN, ...options }, async (_req, res, url) => {
    served.push(url.pathname);
    if (url.pathname === "/stream") {
      res.writeHead(200, { "content-length": 4 });
      (res as ServerResponse).write("he"); // the tests speak HTTP/1.1 only
      await released;
      res.end("ld");
      return true;
    }
    if (url.pathname === "/hold") await released;
    res.writeHead(200, { "content-length": 2 });
    res.end("ok");
    return true;
  });
  listeners.push(listener);
  return listener;
}

/** A raw connection (TLS: HTTP/1.1 by ALPN): everything the server sent, and when it closed. */
const rawConnection = (port: number, over: "plain" | "tls" = "plain") =>
  openRawSocket(port, { patienceMs: PATIENCE_MS, ...(over === "tls" ? { tls } : {}) });

const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: sidecar\r\n\r\n`;

/** The answers in `text`, in order, each its status line and header section, lowercased. */
function heads(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.1 [\s\S]*?\r\n\r\n/g)].map(([head]) => head.toLowerCase());
}

describe("the sidecar listener's drain", () => {
  it("answers pipelined requests in flight, only the last with connection: close (RFC 9112 §9.6)", async () => {
    const listener = await start();
    const client = await rawConnection(listener.port);
    client.socket.write(get("/hold") + get("/hold"));
    await sleep(SETTLE_MS);
    const drained = listener.close();
    release();
    const answers = heads(await client.closedSoon());
    expect(answers).toHaveLength(2);
    expect(answers[0]).toContain("connection: keep-alive");
    expect(answers[1]).toContain("connection: close");
    await drained;
  });

  it("processes no request sent on a connection after it was told close", async () => {
    const listener = await start();
    const client = await rawConnection(listener.port);
    client.socket.write(get("/hold"));
    await sleep(SETTLE_MS);
    const drained = listener.close();
    await new Promise((resolve) => client.socket.write(get("/late"), resolve));
    // The server has read it (nothing left unread on its side): processing it would show in
    // `served` by the time the held request is released.
    await eventually(async () => (await unreadBytes(listener.port)) === 0, "read", PATIENCE_MS);
    await sleep(SETTLE_MS);
    release();
    expect(heads(await client.closedSoon())).toHaveLength(1);
    expect(served).toEqual(["/hold"]);
    await drained;
  });

  it("serves a request whose header section was still arriving, with connection: close", async () => {
    const listener = await start();
    const client = await rawConnection(listener.port);
    const request = get("/now");
    client.socket.write(request.slice(0, -2));
    await sleep(SETTLE_MS);
    const drained = listener.close();
    client.socket.write(request.slice(-2));
    const answers = heads(await client.closedSoon());
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatch(/^http\/1\.1 200 [\s\S]*connection: close/);
    await drained;
  });

  it("ends a connection after an answer whose head went out before the drain", async () => {
    // Over TLS: HTTP/1.1 there has no keep-alive timeout that would end it anyway.
    const listener = await start({ tls });
    const client = await rawConnection(listener.port, "tls");
    client.socket.write(get("/stream"));
    await sleep(SETTLE_MS);
    const drained = listener.close();
    release();
    const text = await client.closedSoon();
    expect(text).toMatch(/\r\n\r\nheld$/);
    expect(heads(text)[0]).toContain("connection: keep-alive");
    await drained;
  });

  it("destroys what is still open after the grace, a TLS handshake never finished included", async () => {
    const listener = await start({ tls, shutdownGraceMs: 300 });
    const silent = await rawConnection(listener.port); // sends no ClientHello
    const held = await rawConnection(listener.port, "tls");
    held.socket.write(get("/hold"));
    await sleep(SETTLE_MS);
    await listener.close();
    expect(await silent.closedSoon()).toBe("");
    expect(await held.closedSoon()).toBe("");
  });
});
