import type * as http2 from "node:http2";
import type * as grpc from "@grpc/grpc-js";
import type { TransportLimits } from "../config/limits.js";
import {
  http2ServerOptions,
  limitConnectionsPerAddress,
  limitHttp2Streams,
} from "./transport-limits.js";

/** The two grpc-js (1.10–1.14) members the limits reach; checked, never assumed. */
interface GrpcServerInternals {
  /** Spread into every http2.createSecureServer call grpc-js makes. */
  commonServerOptions?: http2.SecureServerOptions;
  /** Builds the node:http2 server of each bound port. */
  createHttp2Server?: (credentials: grpc.ServerCredentials) => http2.Http2SecureServer;
}

/**
 * Applies the transport limits to a grpc-js server before it binds. grpc-js's channel options
 * cover only some of them (`grpc.max_concurrent_streams`, `grpc-node.max_session_memory`);
 * none sets the header list size or count, the TLS handshake timeout, a deadline on receiving a
 * request, or a per-address connection cap. So the same node:http2 options as the Connect
 * port's are merged into the options grpc-js creates its servers with, and each server it
 * creates gets the same stream and connection guards. When a grpc-js upgrade moves these
 * members, start-up fails here rather than serving without limits (fail closed).
 */
export function applyGrpcTransportLimits(server: grpc.Server, limits: TransportLimits): void {
  const internals = server as unknown as GrpcServerInternals;
  const { commonServerOptions, createHttp2Server } = internals;
  if (typeof commonServerOptions !== "object" || typeof createHttp2Server !== "function") {
    throw new Error("this @grpc/grpc-js version cannot take Gatehouse's transport limits");
  }
  Object.assign(commonServerOptions, http2ServerOptions(limits));
  internals.createHttp2Server = function (this: grpc.Server, credentials) {
    const created = createHttp2Server.call(this, credentials);
    limitHttp2Streams(created, limits);
    limitConnectionsPerAddress(created, limits.maxConnectionsPerAddress);
    return created;
  };
}
