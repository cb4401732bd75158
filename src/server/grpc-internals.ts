import type * as http2 from "node:http2";
import type * as grpc from "@grpc/grpc-js";

/**
 * Every place Gatehouse reaches past grpc-js's public API, in one file (grpc-js 1.10–1.14).
 * grpc-js exposes neither the node:http2 servers it creates (so the transport limits cannot
 * be applied to them otherwise) nor a call's connection (so the per-connection identity
 * cache could not be keyed otherwise). Each member is checked, never assumed.
 */

/** The two grpc-js server members the transport limits reach (grpc-limits.ts). */
export interface GrpcServerInternals {
  /** Spread into every http2.createSecureServer call grpc-js makes. */
  commonServerOptions: http2.SecureServerOptions;
  /** Builds the node:http2 server of each bound port. */
  createHttp2Server: (credentials: grpc.ServerCredentials) => http2.Http2SecureServer;
}

/**
 * The server's internals; throws when a grpc-js upgrade moved them, so start-up fails rather
 * than serving without limits (fail closed).
 */
export function serverInternals(server: grpc.Server): GrpcServerInternals {
  const internals = server as unknown as Partial<GrpcServerInternals>;
  if (
    typeof internals.commonServerOptions !== "object" ||
    typeof internals.createHttp2Server !== "function"
  ) {
    throw new Error("this @grpc/grpc-js version cannot take Gatehouse's transport limits");
  }
  return internals as GrpcServerInternals;
}

interface InternalCall {
  readonly stream?: { readonly session?: { readonly socket?: unknown } };
  readonly nextCall?: InternalCall;
}

/**
 * The TLS socket a unary call came on (ServerUnaryCallImpl.call is the interceptor chain,
 * whose innermost BaseServerInterceptingCall holds the http2 stream). Undefined when the
 * shape differs or the stream has no live session: then the call's identity is read afresh
 * (correct, only slower).
 */
export function connectionOf(call: grpc.ServerUnaryCall<unknown, unknown>): object | undefined {
  let inner = (call as unknown as { readonly call?: InternalCall }).call;
  for (let depth = 0; inner && !inner.stream && depth < 16; depth++) inner = inner.nextCall;
  const socket = inner?.stream?.session?.socket;
  return typeof socket === "object" && socket !== null ? socket : undefined;
}
