import type { IncomingMessage } from "node:http";
import * as http2 from "node:http2";
import type { DescMethod, Message } from "@bufbuild/protobuf";
import {
  ConnectError,
  type ConnectRouter,
  createContextKey,
  createContextValues,
  type HandlerContext,
  type MethodImpl,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ErrorDetailSchema } from "../../gen/gatehouse/v1/errors_pb.js";
import type { TransportLimits } from "../config/limits.js";
import { catalogEntry, toGatehouseError } from "../errors/index.js";
import { PreEncoded } from "../services/pre-encoded.js";
import { answerDecodeFailures, jsonDecodeOptions, malformedRequest } from "./connect-decode.js";
import { createConnectUnaryRoutes } from "./connect-unary.js";
import type { DispatchMethod, TransportCall } from "./dispatch.js";
import { retryAfterSeconds } from "./retry-after.js";
import { errorDetail } from "./status-details.js";
import type { TlsMaterial } from "./tls.js";
import {
  http2ServerOptions,
  limitConnectionsPerAddress,
  limitHttp1Requests,
  limitHttp2Streams,
} from "./transport-limits.js";

export interface ConnectServerOptions {
  readonly methods: readonly DispatchMethod[];
  /**
   * Methods whose plain Connect unary POSTs skip connect-node (connect-unary.ts): the hot
   * routes. connect-node serves them otherwise, and serves every other method.
   */
  readonly hotRoutes?: readonly string[];
  readonly tls: TlsMaterial;
  readonly maxMessageBytes: number;
  readonly transport: TransportLimits;
}

type NodeServerRequest = IncomingMessage | http2.Http2ServerRequest;

const requestKey = createContextKey<NodeServerRequest | undefined>(undefined, {
  description: "gatehouse node request",
});

/** Set when the method is called: an error answered before it is connect-node's own. */
interface CallRecord {
  ran: boolean;
}

const callKey = createContextKey<CallRecord | undefined>(undefined, {
  description: "gatehouse call record",
});

/**
 * Connect, gRPC-Web and gRPC (connect-node) over HTTP/2 with TLS (HTTP/1.1 allowed for
 * curl and browsers). The same dispatcher as the native gRPC port serves every method; this
 * transport only extracts what its call steps read.
 */
export function createConnectServer(options: ConnectServerOptions): http2.Http2SecureServer {
  const handler = connectNodeAdapter({
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    contextValues: (req) => createContextValues().set(requestKey, req).set(callKey, { ran: false }),
    routes: (router: ConnectRouter) => {
      for (const entry of options.methods) {
        router.rpc(entry.method, methodImpl(entry), {
          jsonOptions: jsonDecodeOptions(entry.method.input, connectErrorOf),
        });
      }
      // Read by connectNodeAdapter once routes() returns.
      const handlers = router.handlers;
      for (let i = 0; i < handlers.length; i++) {
        handlers[i] = answerDecodeFailures(
          handlers[i] as (typeof handlers)[number],
          (request) => request.contextValues?.get(callKey)?.ran === true,
          () => connectErrorOf(malformedRequest()),
        );
      }
    },
  });
  const hot = new Set(options.hotRoutes ?? []);
  const served = createConnectUnaryRoutes(
    options.methods.filter((entry) => hot.has(entry.fullName)),
    connectErrorOf,
    options.maxMessageBytes,
  );
  const route = (req: NodeServerRequest, res: http2.Http2ServerResponse) => {
    if ("stream" in req && served(req, res)) return;
    handler(req, res);
  };
  const server = http2.createSecureServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      ca: options.tls.ca,
      requestCert: true,
      rejectUnauthorized: options.tls.requireClientCert,
      allowHTTP1: true,
      ...http2ServerOptions(options.transport),
    },
    route,
  );
  limitHttp2Streams(server, options.transport);
  limitHttp1Requests(server, options.transport);
  limitConnectionsPerAddress(server, options.transport.maxConnectionsPerAddress);
  return server;
}

function methodImpl(entry: DispatchMethod): MethodImpl<DescMethod> {
  const impl = async (request: Message, context: HandlerContext): Promise<Message> => {
    const call = context.values.get(callKey);
    if (call !== undefined) call.ran = true;
    try {
      const response = await entry.invoke(request, new ConnectTransportCall(context));
      return response instanceof PreEncoded ? response.message : response;
    } catch (error) {
      throw connectErrorOf(error);
    }
  };
  return impl as unknown as MethodImpl<DescMethod>;
}

/** A refusal as Connect sends it: the catalog's code, retry-after, the typed ErrorDetail. */
function connectErrorOf(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const typed = toGatehouseError(error);
  const retryAfter = retryAfterSeconds(typed);
  const headers = retryAfter === undefined ? undefined : { "retry-after": retryAfter };
  return new ConnectError(typed.message, catalogEntry(typed.reason).code, headers, [
    { desc: ErrorDetailSchema, value: errorDetail(typed) },
  ]);
}

/** Shared by every absent header. */
const NO_VALUES: readonly string[] = Object.freeze([]);

/**
 * What the dispatcher reads of one Connect call. The connection is the TLS socket (HTTP/2
 * requests share their session's); the AbortSignal is read from the context on first use
 * only. Repeated headers arrive joined by ", ", which no valid forwarded or signed-request
 * value contains.
 */
class ConnectTransportCall implements TransportCall {
  readonly #context: HandlerContext;
  readonly #request: NodeServerRequest | undefined;
  readonly header: (name: string) => readonly string[];

  constructor(context: HandlerContext) {
    this.#context = context;
    this.#request = context.values.get(requestKey);
    const headers = context.requestHeader;
    this.header = (name) => {
      const value = headers.get(name);
      return value === null ? NO_VALUES : [value];
    };
  }

  get connection(): object | undefined {
    const req = this.#request;
    return req && ("stream" in req ? req.stream.session?.socket : req.socket);
  }

  /** As received: context.url is normalised (lowercased, default port dropped). */
  get authority(): string {
    const req = this.#request;
    return (req && ("authority" in req ? req.authority : req.headers.host)) ?? "";
  }

  peerCertificate(): Uint8Array | undefined {
    const socket = this.#request?.socket as import("node:tls").TLSSocket | undefined;
    if (!socket?.authorized) return undefined;
    return socket.getPeerCertificate().raw;
  }

  peerAddress(): string {
    return this.#request?.socket.remoteAddress ?? "";
  }

  get signal(): AbortSignal {
    return this.#context.signal;
  }
}
