import type * as http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import { fromBinary, fromJson, type Message, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { PreEncoded } from "../services/pre-encoded.js";
import { invalidJson, malformedRequest } from "./connect-decode.js";
import type { DispatchMethod, TransportCall } from "./dispatch.js";

/**
 * The Connect protocol's unary POST (https://connectrpc.com/docs/protocol/#unary-request),
 * served without connect-node for the hot routes (Verify). connect-node gives every request
 * an AbortSignal and aborts it when the request ends, and its handler context links and
 * aborts two more: per request three AbortControllers, their listeners and two DOMExceptions,
 * which cost more than the rest of a cached Verify. Here the signal is made only when read.
 *
 * Only the plain case is taken: POST, `application/json` or `application/proto`, no
 * Content-Encoding, no `connect-timeout-ms`. Anything else (GET, compression, a deadline,
 * gRPC-Web, gRPC) returns false and goes to connect-node, which serves every method.
 */
export function createConnectUnaryRoutes(
  methods: readonly DispatchMethod[],
  toConnectError: (error: unknown) => ConnectError,
  maxMessageBytes: number,
) {
  const routes = new Map(methods.map((entry) => [`/${entry.fullName}`, entry]));
  return (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): boolean => {
    const entry = routes.get(req.url);
    const type = req.headers["content-type"];
    if (
      entry === undefined ||
      req.method !== "POST" ||
      (type !== JSON_TYPE && type !== PROTO_TYPE) ||
      req.headers["content-encoding"] !== undefined ||
      req.headers["connect-timeout-ms"] !== undefined
    ) {
      return false;
    }
    // A response that cannot be written any more (the stream is gone) ends the stream.
    serve(entry, req, res, type === JSON_TYPE, toConnectError, maxMessageBytes).catch(() =>
      req.stream.destroy(),
    );
    return true;
  };
}

const JSON_TYPE = "application/json";
const PROTO_TYPE = "application/proto";

async function serve(
  entry: DispatchMethod,
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  json: boolean,
  toConnectError: (error: unknown) => ConnectError,
  maxMessageBytes: number,
): Promise<void> {
  const schema = entry.method.output;
  try {
    const body = await readBody(req, maxMessageBytes);
    const request = decode(entry, body, json);
    const response = await entry.invoke(request, new NodeTransportCall(req));
    const message = response instanceof PreEncoded ? response.message : response;
    const bytes = json
      ? Buffer.from(toJsonString(schema, message))
      : response instanceof PreEncoded
        ? response.binary
        : toBinary(schema, message);
    res.writeHead(200, { "content-type": json ? JSON_TYPE : PROTO_TYPE });
    res.end(bytes);
  } catch (error) {
    const connectError = toConnectError(error);
    const headers: Record<string, string> = { "content-type": JSON_TYPE };
    connectError.metadata.forEach((value, key) => {
      headers[key] = value;
    });
    if (res.headersSent) return;
    res.writeHead(codeToHttpStatus(connectError.code), headers);
    res.end(errorToJsonBytes(connectError, {}));
  }
}

/** The request body, at most `maxBytes` (connect-node's `readMaxBytes`). */
function readBody(req: http2.Http2ServerRequest, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        req.removeAllListeners("data");
        reject(
          new ConnectError(
            `message size ${length} is larger than configured readMaxBytes ${maxBytes}`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(Buffer.concat(chunks, length)));
    req.once("error", reject);
  });
}

function decode(entry: DispatchMethod, body: Buffer, json: boolean): Message {
  const schema = entry.method.input;
  try {
    return json ? fromJson(schema, JSON.parse(body.toString("utf8"))) : fromBinary(schema, body);
  } catch (error) {
    // Typed as connect-node's path and the gRPC port answer it; never the value.
    throw json ? invalidJson(schema, error) : malformedRequest();
  }
}

/** What the dispatcher reads of one request; the AbortSignal is made on first use only. */
class NodeTransportCall implements TransportCall {
  readonly #req: http2.Http2ServerRequest;
  #signal: AbortSignal | undefined;
  readonly header: (name: string) => readonly string[];

  constructor(req: http2.Http2ServerRequest) {
    this.#req = req;
    const headers = req.headers;
    this.header = (name) => {
      const value = headers[name];
      if (value === undefined) return NO_VALUES;
      return Array.isArray(value) ? [value.join(", ")] : [value];
    };
  }

  get connection(): object | undefined {
    return this.#req.stream.session?.socket;
  }

  get authority(): string {
    return this.#req.authority ?? "";
  }

  peerCertificate(): Uint8Array | undefined {
    const socket = this.#req.socket as TLSSocket;
    return socket.authorized ? socket.getPeerCertificate().raw : undefined;
  }

  peerAddress(): string {
    return this.#req.socket.remoteAddress ?? "";
  }

  /** Aborted when the stream closes before the response was sent (the client went away). */
  get signal(): AbortSignal {
    if (this.#signal === undefined) {
      const controller = new AbortController();
      const res = this.#req.stream;
      if (res.closed) controller.abort();
      else res.once("close", () => res.sentHeaders === undefined && controller.abort());
      this.#signal = controller.signal;
    }
    return this.#signal;
  }
}

const NO_VALUES: readonly string[] = Object.freeze([]);
