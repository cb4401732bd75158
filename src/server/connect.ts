import type { IncomingMessage } from "node:http";
import * as http2 from "node:http2";
import type { TLSSocket } from "node:tls";
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
import { ANONYMOUS, type Caller } from "../identity/caller.js";
import {
  type ClientCertificateCheck,
  peerCertificateCaller,
} from "../identity/client-certificate.js";
import type { CallerResolver } from "../identity/forwarded.js";
import type { DispatchMethod } from "./dispatch.js";
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
  readonly tls: TlsMaterial;
  /** The checks a client certificate passes before it names a caller (src/identity). */
  readonly certificates: ClientCertificateCheck;
  readonly maxMessageBytes: number;
  readonly transport: TransportLimits;
  /** Decides each call's caller: the TLS peer, or the identity a trusted proxy forwards. */
  readonly resolveCaller: CallerResolver;
}

type NodeServerRequest = IncomingMessage | http2.Http2ServerRequest;

const callerKey = createContextKey<Caller>(ANONYMOUS, { description: "gatehouse caller" });
const peerKey = createContextKey<string>("", { description: "gatehouse peer address" });
const authorityKey = createContextKey<string>("", { description: "gatehouse request authority" });

/**
 * Connect, gRPC-Web and gRPC (connect-node) over HTTP/2 with TLS (HTTP/1.1 allowed for
 * curl and browsers). The same dispatcher as the native gRPC port serves every method.
 */
export function createConnectServer(options: ConnectServerOptions): http2.Http2SecureServer {
  const callerFor = createSessionCallers(options.certificates);
  const handler = connectNodeAdapter({
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    contextValues: (req) =>
      createContextValues()
        .set(callerKey, callerFor(req))
        .set(peerKey, req.socket.remoteAddress ?? "")
        // As received: context.url is normalised (lowercased, default port dropped).
        .set(authorityKey, ("authority" in req ? req.authority : req.headers.host) ?? ""),
    routes: (router: ConnectRouter) => {
      for (const entry of options.methods) {
        router.rpc(entry.method, methodImpl(entry, options.resolveCaller));
      }
    },
  });
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
    handler,
  );
  limitHttp2Streams(server, options.transport);
  limitHttp1Requests(server, options.transport);
  limitConnectionsPerAddress(server, options.transport.maxConnectionsPerAddress);
  return server;
}

function methodImpl(entry: DispatchMethod, resolveCaller: CallerResolver): MethodImpl<DescMethod> {
  const target = `/${entry.method.parent.typeName}/${entry.method.name}`;
  const impl = async (request: Message, context: HandlerContext): Promise<Message> => {
    const peerAddress = context.values.get(peerKey);
    try {
      // Per request, never cached with the session: each request carries its own forward.
      // Repeated headers arrive joined by ", ", which no valid forwarded value contains.
      const header = (name: string): string[] => {
        const value = context.requestHeader.get(name);
        return value === null ? [] : [value];
      };
      const caller = resolveCaller({
        peerCaller: context.values.get(callerKey),
        peerAddress,
        authority: context.values.get(authorityKey),
        target,
        header,
      });
      return await entry.invoke(request, { caller, peerAddress, signal: context.signal, header });
    } catch (error) {
      const typed = toGatehouseError(error);
      const retryAfter = retryAfterSeconds(typed);
      const headers = retryAfter === undefined ? undefined : { "retry-after": retryAfter };
      throw new ConnectError(typed.message, catalogEntry(typed.reason).code, headers, [
        { desc: ErrorDetailSchema, value: errorDetail(typed) },
      ]);
    }
  };
  return impl as unknown as MethodImpl<DescMethod>;
}

/**
 * The peer's own caller is parsed once per connection: HTTP/2 requests share their session's
 * TLS socket, so the Caller is cached on it (reading the peer certificate per request costs).
 */
function createSessionCallers(certificates: ClientCertificateCheck) {
  const cache = new WeakMap<object, Caller>();
  return (req: NodeServerRequest): Caller => {
    const socket = ("stream" in req ? req.stream.session?.socket : req.socket) as
      | TLSSocket
      | undefined;
    if (!socket) return ANONYMOUS;
    let caller = cache.get(socket);
    if (!caller) {
      const certificate = socket.authorized ? socket.getPeerCertificate() : undefined;
      caller = certificate?.raw ? peerCertificateCaller(certificates, certificate.raw) : ANONYMOUS;
      cache.set(socket, caller);
    }
    return caller;
  };
}
