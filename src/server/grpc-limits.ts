import type * as grpc from "@grpc/grpc-js";
import type { TransportLimits } from "../config/limits.js";
import { serverInternals } from "./grpc-internals.js";
import {
  http2ServerOptions,
  limitConnectionsPerAddress,
  limitHttp2Streams,
} from "./transport-limits.js";

/**
 * Applies the transport limits to a grpc-js server before it binds. grpc-js's channel options
 * cover only some of them (`grpc.max_concurrent_streams`, `grpc-node.max_session_memory`);
 * none sets the header list size or count, the TLS handshake timeout, a deadline on receiving a
 * request, or a per-address connection cap. So the same node:http2 options as the Connect
 * port's are merged into the options grpc-js creates its servers with, and each server it
 * creates gets the same stream and connection guards (through grpc-internals.ts, which fails
 * start-up when a grpc-js upgrade moved what it reaches).
 */
export function applyGrpcTransportLimits(server: grpc.Server, limits: TransportLimits): void {
  const internals = serverInternals(server);
  const { createHttp2Server } = internals;
  Object.assign(internals.commonServerOptions, http2ServerOptions(limits));
  internals.createHttp2Server = function (this: grpc.Server, credentials) {
    const created = createHttp2Server.call(this, credentials);
    limitHttp2Streams(created, limits);
    limitConnectionsPerAddress(created, limits.maxConnectionsPerAddress);
    return created;
  };
}
