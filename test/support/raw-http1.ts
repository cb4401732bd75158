import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import type { ClientTls } from "../../clients/typescript/src/index.js";
import type { HttpAnswer, HttpCall } from "./sidecar.js";

/**
 * A bare HTTP/1.1 client on one connection (RFC 9112) that it never closes by itself, unlike
 * node:http's agents: whether the connection stays open or ends is the server's doing alone.
 * One request at a time; answers must carry `content-length` (the sidecar's all do).
 */
export interface RawHttp1 {
  /** Sends one request; resolves with its answer, rejects if the connection ends first. */
  request(path: string, call?: Omit<HttpCall, "tls" | "localAddress">): Promise<HttpAnswer>;
  /** Resolves once the server has closed the connection (or reset it). */
  readonly closed: Promise<void>;
  close(): void;
}

/** Connects to `url` (`https:` with ALPN http/1.1 and an optional client certificate, or `http:`). */
export async function openRawHttp1(url: string, ca: string, tls?: ClientTls): Promise<RawHttp1> {
  const { protocol, hostname, port } = new URL(url);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s =
      protocol === "https:"
        ? connectTls(
            { host: hostname, port: Number(port), ca, ALPNProtocols: ["http/1.1"], ...tls },
            () => resolve(s),
          )
        : connectTcp({ host: hostname, port: Number(port) }, () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  let received = Buffer.alloc(0);
  let onData = (): void => {};
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    onData();
  });

  /** The first whole answer in `received`, taken out of it; undefined until it has arrived. */
  const takeAnswer = (): HttpAnswer | undefined => {
    const end = received.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const [statusLine = "", ...lines] = received.subarray(0, end).toString().split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (received.length < end + 4 + length) return undefined;
    const text = received.subarray(end + 4, end + 4 + length).toString();
    received = received.subarray(end + 4 + length);
    const status = Number(statusLine.split(" ")[1]);
    return { status, headers, text, json: () => JSON.parse(text) as unknown };
  };

  return {
    request(path, call = {}) {
      const body = call.body ?? "";
      const head = {
        host: hostname,
        ...(call.body === undefined ? {} : { "content-type": "application/json" }),
        "content-length": String(Buffer.byteLength(body)),
        ...call.headers,
      };
      const lines = Object.entries(head).map(([name, value]) => `${name}: ${value}\r\n`);
      socket.write(`${call.method ?? "GET"} ${path} HTTP/1.1\r\n${lines.join("")}\r\n${body}`);
      return new Promise<HttpAnswer>((resolve, reject) => {
        onData = () => {
          const answer = takeAnswer();
          if (answer) resolve(answer);
        };
        void closed.then(() => reject(new Error(`${path}: connection closed before an answer`)));
        onData();
      });
    },
    closed,
    close: () => socket.destroy(),
  };
}
