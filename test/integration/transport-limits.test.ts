import { connect as netConnect } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientTls } from "../../src/client/credentials.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, login } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { H2_ERROR, openRawH2, type RawH2, SETTINGS_ID } from "../support/raw-h2.js";

/** What a unary call on each HTTP/2 port starts with: a request whose body never comes. */
const REQUEST_HEADERS = {
  grpc: [
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ],
  connect: [["content-type", "application/proto"]],
} as const;
type Port = keyof typeof REQUEST_HEADERS;
const PORTS: readonly Port[] = ["grpc", "connect"];

/** V8's full collection, without `--expose-gc` on the test process: the flag set at run time. */
const collectGarbage: () => void = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

function portOf(gh: TestGatehouse, port: Port): number {
  return port === "grpc" ? gh.app.grpcPort : gh.app.connectPort;
}

/** HEADERS of a Verify call; the caller decides whether END_STREAM follows. */
function verifyHeaders(port: Port, extra: readonly (readonly [string, string])[] = []) {
  return [
    [":method", "POST"],
    [":scheme", "https"],
    [":path", "/gatehouse.v1.VerifyService/Verify"],
    [":authority", "127.0.0.1"],
    ...REQUEST_HEADERS[port],
    ...extra,
  ] as const;
}

/** Opens `count` half-sent streams on `conn` (HEADERS without END_STREAM). */
function openHalfSent(conn: RawH2, port: Port, count: number): number[] {
  return Array.from({ length: count }, () => conn.open(verifyHeaders(port)));
}

function approvalPort(gh: TestGatehouse): number {
  return Number(new URL(gh.app.approvalOrigin ?? "").port);
}

/** A TLS connection with `tls`'s certificate, offering `alpn` (RFC 7301). */
function tlsTo(port: number, tls: ClientTls, alpn: string[] = []): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const options = { host: "127.0.0.1", port, ...tls, ALPNProtocols: alpn };
    const socket = tlsConnect(options, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Writes `request` on a new HTTP/1.1 connection to `port`; resolves with the status line. */
async function http1Status(port: number, tls: ClientTls, request: string) {
  const socket = await tlsTo(port, tls, ["http/1.1"]);
  const started = Date.now();
  return new Promise<{ line: string; ms: number }>((resolve, reject) => {
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (text.includes("\r\n")) {
        resolve({ line: text.slice(0, text.indexOf("\r\n")), ms: Date.now() - started });
        socket.destroy();
      }
    });
    socket.once("close", () => reject(new Error(`closed without an answer: ${text}`)));
    socket.write(request);
  });
}

const LIMITS = {
  maxConcurrentStreams: 16,
  maxHeaderListBytes: 4_096,
  maxHeaderPairs: 24,
  requestTimeoutMs: 30_000,
};

describe("transport limits: streams and headers", () => {
  const fx = useGatehouse({ overrides: { transport: LIMITS } });

  it.each(PORTS)(
    "the %s port advertises the configured SETTINGS (RFC 9113 §6.5.2)",
    async (port) => {
      const conn = await openRawH2(portOf(fx.gh, port), fx.agent.agentTls);
      try {
        const settings = await conn.settings;
        expect(settings.get(SETTINGS_ID.MAX_CONCURRENT_STREAMS)).toBe(LIMITS.maxConcurrentStreams);
        expect(settings.get(SETTINGS_ID.MAX_HEADER_LIST_SIZE)).toBe(LIMITS.maxHeaderListBytes);
      } finally {
        conn.close();
      }
    },
  );

  it("the approval page speaks HTTP/1.1 only: no HTTP/2 connection, so no streams to multiply", async () => {
    const port = approvalPort(fx.gh);
    const socket = await tlsTo(port, fx.agent.agentTls, ["h2", "http/1.1"]);
    socket.destroy();
    expect(socket.alpnProtocol).toBe("http/1.1");
    // RFC 7301 §3.2: a client offering only h2 gets no_application_protocol.
    await expect(tlsTo(port, fx.agent.agentTls, ["h2"])).rejects.toThrow(/no application protocol/);
  });

  /**
   * Memory the process holds: native memory (nghttp2's sessions and streams live there) plus
   * the live JavaScript heap. RSS alone also counts heap pages V8 has reserved but not
   * returned, which Node 24 keeps far more of after a burst (heapTotal up ~100 MB with the
   * live heap unchanged), so it would measure V8's reservation policy, not held streams. A full
   * collection comes first: `heapUsed` also counts garbage no GC has reached yet, which moved
   * the figure between ~31 and 65 MiB from one run to the next.
   */
  const heldMemory = (): number => {
    collectGarbage();
    const { rss, heapTotal, heapUsed } = process.memoryUsage();
    return rss - heapTotal + heapUsed;
  };

  it.each(PORTS)(
    "the %s port refuses streams past the limit, and 20,000 of them leave memory bounded",
    async (port) => {
      const connections = 10;
      const perConnection = 2_000;
      const before = heldMemory();
      const conns = await Promise.all(
        Array.from({ length: connections }, () =>
          openRawH2(portOf(fx.gh, port), fx.agent.agentTls),
        ),
      );
      try {
        await Promise.all(conns.map((conn) => conn.settings));
        const streams = conns.map((conn) => openHalfSent(conn, port, perConnection));
        // RFC 9113 §5.1.2: a stream past the advertised limit is a PROTOCOL_ERROR or
        // REFUSED_STREAM; nghttp2 ends the whole connection (and every stream it held) once the
        // client has acknowledged the SETTINGS it exceeds, and refuses the stream before that.
        const refused = (conn: RawH2, i: number) =>
          conn.closed ||
          (streams[i] ?? [])
            .slice(LIMITS.maxConcurrentStreams)
            .every((id) => conn.resetCode(id) === H2_ERROR.REFUSED_STREAM);
        await Promise.all(conns.map((conn, i) => conn.until(() => refused(conn, i), 10_000)));
        for (const [i, conn] of conns.entries()) {
          const excess = (streams[i] ?? []).slice(LIMITS.maxConcurrentStreams);
          expect(excess.filter((id) => conn.answered(id))).toEqual([]);
        }
        // Unbounded, 20,000 half-sent streams grew a replica by ~280 MB (issue 11); bounded,
        // the server holds at most 10 × 16 of them.
        const grown = heldMemory() - before;
        console.info(`${port}: memory held grew ${(grown / 2 ** 20).toFixed(1)} MiB`);
        expect(grown).toBeLessThan(64 * 1024 * 1024);
      } finally {
        for (const conn of conns) conn.close();
      }
    },
    60_000,
  );

  it("a legitimate Verify completes within 2 s while an abuser holds every stream it may", async () => {
    const token = await login(fx.clients.gate, fx.agent);
    const abusers = await Promise.all(
      PORTS.flatMap((port) =>
        Array.from({ length: 6 }, async () => {
          const conn = await openRawH2(portOf(fx.gh, port), fx.agent.agentTls);
          await conn.settings;
          openHalfSent(conn, port, LIMITS.maxConcurrentStreams);
          await conn.ping(); // the server holds them all before the legitimate calls start
          return conn;
        }),
      ),
    );
    try {
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const decision = await fx.verifier.verify.verify({ token, audience: AUDIENCE });
        expect(decision.allowed).toBe(true);
        expect(Date.now() - started).toBeLessThan(2_000);
      }
    } finally {
      for (const conn of abusers) conn.close();
    }
  });

  it.each(PORTS)("the %s port refuses a header list over the limit", async (port) => {
    const conn = await openRawH2(portOf(fx.gh, port), fx.agent.agentTls);
    try {
      await conn.settings;
      const big = conn.open(verifyHeaders(port, [["x-big", "a".repeat(8_192)]]), { end: true });
      const many = conn.open(
        verifyHeaders(
          port,
          Array.from({ length: 30 }, (_, i) => [`x-${i}`, "1"] as const),
        ),
        { end: true },
      );
      await conn.until(
        () => conn.goaway !== undefined || [big, many].every((id) => conn.resetCode(id)),
        5_000,
      );
      for (const id of [big, many]) {
        expect(conn.answered(id)).toBe(false);
        expect(conn.goaway ?? conn.resetCode(id)).toBe(H2_ERROR.ENHANCE_YOUR_CALM);
      }
    } finally {
      conn.close();
    }
  });

  it("the approval page answers 431 to a header section over the limit", async () => {
    const { line } = await http1Status(
      approvalPort(fx.gh),
      fx.agent.agentTls,
      `GET /approve HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${"a".repeat(8_192)}\r\n\r\n`,
    );
    expect(line).toBe("HTTP/1.1 431 Request Header Fields Too Large");
  });
});

describe("transport limits: timeouts and connections", () => {
  const TIMEOUTS = { requestTimeoutMs: 500, idleTimeoutMs: 1_000, maxConnectionsPerAddress: 4 };
  let gh: TestGatehouse;
  let tls: ClientTls;
  beforeAll(async () => {
    gh = await startTestGatehouse({ overrides: { transport: TIMEOUTS } });
    tls = await gh.clientTls({ role: "verifier", name: "limits" });
  });
  afterAll(async () => {
    await gh?.dispose();
  });

  it.each(PORTS)(
    "the %s port resets a half-sent stream after the request timeout",
    async (port) => {
      const conn = await openRawH2(portOf(gh, port), tls);
      try {
        await conn.settings;
        const started = Date.now();
        const [stream = 0] = openHalfSent(conn, port, 1);
        await conn.until(() => conn.resetCode(stream) !== undefined, 10_000);
        expect(conn.resetCode(stream)).toBe(H2_ERROR.CANCEL);
        expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUTS.requestTimeoutMs - 50);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        conn.close();
      }
    },
  );

  it.each(["approval", "connect"] as const)(
    "the %s listener's HTTP/1.1 answers 408 to a request not received whole in time",
    async (listener) => {
      const port = listener === "approval" ? approvalPort(gh) : gh.app.connectPort;
      // The header section never ends (a slow-headers client).
      const request = "GET /approve HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      const { line, ms } = await http1Status(port, tls, request);
      expect(line).toBe("HTTP/1.1 408 Request Timeout");
      expect(ms).toBeLessThan(5_000);
    },
  );

  it.each(["grpc", "connect", "approval"] as const)(
    "the %s listener drops a connection that never completes its TLS handshake",
    async (listener) => {
      const port = listener === "approval" ? approvalPort(gh) : portOf(gh, listener);
      const started = Date.now();
      const socket = netConnect({ host: "127.0.0.1", port });
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("close", resolve));
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUTS.requestTimeoutMs - 50);
      expect(Date.now() - started).toBeLessThan(5_000);
    },
  );

  it.each(PORTS)(
    "the %s port closes a connection idle past the idle timeout (GOAWAY)",
    async (port) => {
      const conn = await openRawH2(portOf(gh, port), tls);
      try {
        await conn.settings;
        await conn.until(() => conn.goaway !== undefined, 10_000);
        expect(conn.goaway).toBe(H2_ERROR.NO_ERROR);
      } finally {
        conn.close();
      }
    },
  );

  it.each(["grpc", "connect", "approval"] as const)(
    "the %s listener closes connections from one address past the cap",
    async (listener) => {
      const port = listener === "approval" ? approvalPort(gh) : portOf(gh, listener);
      const alpn = listener === "approval" ? ["http/1.1"] : ["h2"];
      const held = await Promise.all(
        Array.from({ length: TIMEOUTS.maxConnectionsPerAddress }, () => tlsTo(port, tls, alpn)),
      );
      try {
        await expect(tlsTo(port, tls, alpn)).rejects.toThrow(/ECONNRESET|socket disconnected/);
      } finally {
        for (const socket of held) socket.destroy();
      }
      // Closed connections no longer count.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await tlsTo(port, tls, alpn);
      again.destroy();
    },
  );
});
