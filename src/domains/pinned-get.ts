import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import type { GatehouseError } from "../errors/index.js";
import { verificationFailed } from "./failure.js";
import { authority } from "./locations.js";

export interface PinnedGetOptions {
  /** The address to connect to, already checked: connecting makes no DNS lookup. */
  readonly address: string;
  /** The name the certificate must be valid for, sent as SNI and in `Host`. */
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
  /** The trusted CAs; undefined: Node's. */
  readonly ca: readonly string[] | undefined;
  readonly maxBodyBytes: number;
  /** Aborts the whole exchange: connect, TLS, headers and body. */
  readonly signal: AbortSignal;
}

/**
 * GET over HTTPS from a pinned address; resolves with the body of a 200 answer. Connecting to
 * the address that was checked, rather than resolving the name again, leaves no DNS
 * rebinding window, while the certificate is still checked against the name (RFC 6125 §6,
 * RFC 9110 §4.3.4). A one-off agent (no pooling, no proxy), no cookies, and a redirect is
 * refused, never followed: it could lead anywhere, other hosts included. The body is capped:
 * a larger declared length is refused at once, and the exchange is cut as soon as more
 * than `maxBodyBytes` arrived.
 */
export function pinnedGet(options: PinnedGetOptions): Promise<Buffer> {
  const { maxBodyBytes, signal } = options;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.address,
        port: options.port,
        path: options.path,
        method: "GET",
        servername: options.hostname,
        headers: {
          host: authority(options.hostname, options.port),
          accept: "text/plain",
          "user-agent": "gatehouse-domain-verification",
        },
        agent: false,
        signal,
        ...(options.ca ? { ca: [...options.ca] } : {}),
      },
      (res) => {
        const refusal = responseRefusal(res, maxBodyBytes);
        if (refusal) return fail(refusal);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) fail(tooLarge(maxBodyBytes));
          else chunks.push(chunk);
        });
        res.on("end", () => resolve(Buffer.concat(chunks)));
        res.on("error", (error) => reject(fetchFailure(error, signal)));
      },
    );
    // The first settlement wins: errors that follow a refusal (the socket we cut) are moot.
    const fail = (refusal: GatehouseError) => {
      reject(refusal);
      req.destroy();
    };
    req.on("error", (error) => reject(fetchFailure(error, signal)));
    req.end();
  });
}

function responseRefusal(res: IncomingMessage, maxBodyBytes: number): GatehouseError | undefined {
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    return verificationFailed("the well-known URL redirects: redirects are not followed");
  }
  if (status !== 200) return verificationFailed(`the well-known URL answered HTTP ${status}`);
  if (Number(res.headers["content-length"] ?? 0) > maxBodyBytes) return tooLarge(maxBodyBytes);
  return undefined;
}

function tooLarge(maxBodyBytes: number): GatehouseError {
  return verificationFailed(`the well-known file is larger than ${maxBodyBytes} bytes`);
}

function fetchFailure(error: Error, signal: AbortSignal): GatehouseError {
  if (signal.aborted) return verificationFailed("the well-known file did not arrive in time");
  const code = (error as NodeJS.ErrnoException).code ?? "connection failed";
  return verificationFailed(`could not fetch the well-known file (${code})`);
}
