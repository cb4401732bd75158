import { toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { catalogEntry, toGatehouseError } from "../errors/index.js";
import { ANONYMOUS, type Caller, callerFromCertificate } from "../identity/caller.js";
import type { CallerResolver } from "../identity/forwarded.js";
import type { DispatchMethod } from "./dispatch.js";
import { retryAfterSeconds } from "./retry-after.js";
import { grpcStatusDetails } from "./status-details.js";
import type { TlsMaterial } from "./tls.js";

export interface GrpcServerOptions {
  readonly methods: readonly DispatchMethod[];
  readonly tls: TlsMaterial;
  readonly trustDomain: string;
  readonly maxMessageBytes: number;
  /** Decides each call's caller: the TLS peer, or the identity a trusted proxy forwards. */
  readonly resolveCaller: CallerResolver;
  /** Extra services on the same port (health, reflection). */
  readonly extras?: (server: grpc.Server) => void;
}

const identity = (value: Buffer): Buffer => value;
const MAX_CACHED_CALLERS = 10_000;

/**
 * The native gRPC transport (the fast path). Requests are decoded by the dispatcher, not by
 * grpc-js, so malformed bytes become INVALID_ARGUMENT rather than an opaque INTERNAL.
 */
export function createGrpcServer(options: GrpcServerOptions): grpc.Server {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
  });
  const callers = createCallerCache(options.trustDomain);
  const services = new Set(options.methods.map((m) => m.method.parent.typeName));
  for (const serviceName of services) {
    const methods = options.methods.filter((m) => m.method.parent.typeName === serviceName);
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const entry of methods) {
      const path = `/${serviceName}/${entry.method.name}`;
      definition[entry.method.localName] = {
        path,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      };
      implementation[entry.method.localName] = unaryHandler(entry, (call) =>
        options.resolveCaller({
          peerCaller: callers(call),
          peerAddress: peerIp(call.getPeer()),
          authority: call.getHost(),
          target: path,
          header: (name) => call.metadata.get(name).map(String),
        }),
      );
    }
    server.addService(definition, implementation);
  }
  options.extras?.(server);
  return server;
}

export function grpcServerCredentials(tls: TlsMaterial): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    tls.ca,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.requireClientCert,
  );
}

function unaryHandler(
  entry: DispatchMethod,
  callerOf: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => Caller,
): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    const controller = new AbortController();
    call.on("cancelled", () => controller.abort());
    Promise.resolve()
      .then(() => {
        // Inside the chain: a refused forwarded identity is a typed error like any other.
        const context = {
          caller: callerOf(call),
          // The bare IP, as on the Connect port: rate limits count per source address.
          peerAddress: peerIp(call.getPeer()),
          signal: controller.signal,
        };
        return entry.invoke(entry.decode(call.request), context);
      })
      .then(
        (response) => callback(null, Buffer.from(toBinary(entry.method.output, response))),
        (error: unknown) => {
          const typed = toGatehouseError(error);
          const metadata = new grpc.Metadata();
          metadata.set("grpc-status-details-bin", grpcStatusDetails(typed));
          const retryAfter = retryAfterSeconds(typed);
          if (retryAfter !== undefined) metadata.set("retry-after", retryAfter);
          // Connect's Code and gRPC's Status share their numbering.
          const code = catalogEntry(typed.reason).code as number as grpc.status;
          callback({ code, details: typed.message, metadata });
        },
      );
  };
}

/** grpc-js gives the peer as `address:port` (IPv6 unbracketed); the port is always there on TCP. */
function peerIp(peer: string): string {
  return peer.replace(/:\d+$/, "");
}

/**
 * grpc-js exposes the peer certificate per call only; Node already computed its SHA-256,
 * so the parsed Caller is cached by that fingerprint (bounded).
 */
function createCallerCache(trustDomain: string) {
  const cache = new Map<string, Caller>();
  return (call: grpc.ServerUnaryCall<Buffer, Buffer>): Caller => {
    const certificate = call.getAuthContext().sslPeerCertificate;
    if (!certificate?.raw) return ANONYMOUS;
    let caller = cache.get(certificate.fingerprint256);
    if (!caller) {
      caller = callerFromCertificate(certificate.raw, trustDomain);
      if (cache.size >= MAX_CACHED_CALLERS) cache.clear();
      cache.set(certificate.fingerprint256, caller);
    }
    return caller;
  };
}
