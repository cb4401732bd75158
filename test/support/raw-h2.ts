import { connect, type TLSSocket } from "node:tls";
import type { ClientTls } from "../../clients/typescript/src/index.js";

/**
 * A bare HTTP/2 client over TLS that writes frames itself (RFC 9113 §4, §6): unlike node:http2,
 * it opens as many streams as it is told, whatever the server's SETTINGS say, and leaves them
 * half-sent. Header blocks are HPACK literals without indexing (RFC 7541 §6.2.2).
 */
export interface RawH2 {
  /** The server's first SETTINGS frame: identifier → value (RFC 9113 §6.5.2). */
  readonly settings: Promise<ReadonlyMap<number, number>>;
  /** Opens a stream with HEADERS (END_HEADERS; END_STREAM only with `end`); returns its id. */
  open(headers: readonly (readonly [string, string])[], options?: { end?: boolean }): number;
  /** The error code the server reset `stream` with (RST_STREAM, §6.4), once it has. */
  resetCode(stream: number): number | undefined;
  /** Whether the server answered `stream` (a HEADERS frame on it). */
  answered(stream: number): boolean;
  /**
   * Sends a PING and resolves on its ACK (§6.7): the server has then read every frame sent
   * before it.
   */
  ping(): Promise<void>;
  /** Resolves once `predicate` holds (checked on every frame), rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs: number): Promise<void>;
  /** The GOAWAY error code (§6.8), once one arrived. */
  readonly goaway: number | undefined;
  /** Whether the connection has closed. */
  readonly closed: boolean;
  close(): void;
}

export const FRAME = { HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7 } as const;
export const SETTINGS_ID = { MAX_CONCURRENT_STREAMS: 3, MAX_HEADER_LIST_SIZE: 6 } as const;
export const H2_ERROR = { NO_ERROR: 0, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 };
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Connects (ALPN h2, the given client certificate) and sends the preface and empty SETTINGS. */
export async function openRawH2(port: number, tls: ClientTls): Promise<RawH2> {
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const s = connect(
      { host: "127.0.0.1", port, ca: tls.ca, cert: tls.cert, key: tls.key, ALPNProtocols: ["h2"] },
      () => resolve(s),
    );
    s.once("error", reject);
  });
  socket.on("error", () => {});
  socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0))]));
  return rawH2Session(socket);
}

function rawH2Session(socket: TLSSocket): RawH2 {
  const resets = new Map<number, number>();
  const answers = new Set<number>();
  const waiters = new Set<() => void>();
  let goaway: number | undefined;
  let nextStream = 1;
  let pings = 0;
  let pingAcks = 0;
  let pending = Buffer.alloc(0);
  let resolveSettings: (settings: Map<number, number>) => void = () => {};
  const settings = new Promise<Map<number, number>>((resolve) => {
    resolveSettings = resolve;
  });
  const onFrame = (type: number, flags: number, stream: number, payload: Buffer) => {
    if (type === FRAME.SETTINGS && (flags & FLAG.ACK) === 0) {
      resolveSettings(readSettings(payload));
      socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(0)));
    } else if (type === FRAME.PING) {
      if ((flags & FLAG.ACK) === 0) socket.write(frame(FRAME.PING, FLAG.ACK, 0, payload));
      else pingAcks += 1;
    } else if (type === FRAME.RST_STREAM) {
      resets.set(stream, payload.readUInt32BE(0));
    } else if (type === FRAME.HEADERS) {
      answers.add(stream);
    } else if (type === FRAME.GOAWAY) {
      goaway = payload.readUInt32BE(4);
    }
  };
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const stream = pending.readUInt32BE(5) & 0x7fffffff;
      onFrame(pending[3] ?? 0, pending[4] ?? 0, stream, pending.subarray(9, 9 + length));
      pending = pending.subarray(9 + length);
    }
    for (const wake of waiters) wake();
  });
  let closed = false;
  socket.on("close", () => {
    closed = true;
    for (const wake of waiters) wake();
  });
  return {
    settings,
    open(headers, options = {}) {
      const stream = nextStream;
      nextStream += 2;
      const flags = FLAG.END_HEADERS | (options.end ? FLAG.END_STREAM : 0);
      socket.write(frame(FRAME.HEADERS, flags, stream, headerBlock(headers)));
      return stream;
    },
    ping() {
      pings += 1;
      const sent = pings;
      socket.write(frame(FRAME.PING, 0, 0, Buffer.alloc(8)));
      return this.until(() => pingAcks >= sent, 10_000);
    },
    resetCode: (stream) => resets.get(stream),
    answered: (stream) => answers.has(stream),
    until(predicate, timeoutMs) {
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`raw h2: condition not met within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(wake);
        wake();
      });
    },
    get goaway() {
      return goaway;
    },
    get closed() {
      return closed;
    },
    close: () => socket.destroy(),
  };
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

function readSettings(payload: Buffer): Map<number, number> {
  const settings = new Map<number, number>();
  for (let offset = 0; offset + 6 <= payload.length; offset += 6) {
    settings.set(payload.readUInt16BE(offset), payload.readUInt32BE(offset + 2));
  }
  return settings;
}

/** Literal header fields without indexing, new name (RFC 7541 §6.2.2), no Huffman coding. */
function headerBlock(headers: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    headers.flatMap(([name, value]) => [Buffer.of(0), hpackString(name), hpackString(value)]),
  );
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

/** An integer with an N-bit prefix (RFC 7541 §5.1); the prefix's high bits are left 0. */
function hpackInteger(value: number, prefixBits: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.of(value);
  const bytes = [max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
