import { connect as connectTcp, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as connectTls } from "node:tls";

/** TLS for a raw connection: the CA to trust, and a client certificate when one is to be sent. */
export interface RawTls {
  readonly ca: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/** One raw connection and what the server sent on it. */
export interface RawSocket {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Everything received, once the server has closed (or reset) the connection. */
  closedSoon(): Promise<string>;
}

/**
 * A bare connection to 127.0.0.1:`port` (TLS with ALPN http/1.1 when `tls` is given) that the
 * test writes to by hand: what a server does with what it is sent, and when it closes, is the
 * server's doing alone. `closedSoon` fails after `patienceMs`.
 */
export async function openRawSocket(
  port: number,
  options: { readonly tls?: RawTls; readonly patienceMs: number },
): Promise<RawSocket> {
  const { tls, patienceMs } = options;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = tls
      ? connectTls({ port, host: "127.0.0.1", ALPNProtocols: ["http/1.1"], ...tls }, () =>
          resolve(s),
        )
      : connectTcp(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => {}); // a reset from the server is one way of being closed
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk;
  });
  const closed = new Promise<string>((resolve) => socket.once("close", () => resolve(received)));
  return {
    socket,
    received: () => received,
    closedSoon: () =>
      Promise.race([
        closed,
        sleep(patienceMs).then(() => {
          throw new Error(`the server kept the connection open for ${patienceMs} ms`);
        }),
      ]),
  };
}

/** Polls `check` every 20 ms until it holds; fails after `patienceMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  patienceMs: number,
): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > patienceMs) throw new Error(`never: ${what}`);
    await sleep(20);
  }
}
