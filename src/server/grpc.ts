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
      implementation[entry.method.localName] = unaryHandler(entry, callers, (call, peer) =>
        options.resolveCaller({
          peerCaller: peer.caller,
          peerAddress: peer.address,
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
  peerOf: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => Peer,
  callerOf: (call: grpc.ServerUnaryCall<Buffer, Buffer>, peer: Peer) => Caller,
): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => {
        const peer = peerOf(call);
        // Inside the chain: a refused forwarded identity is a typed error like any other.
        const context = {
          caller: callerOf(call, peer),
          // The bare IP, as on the Connect port: rate limits count per source address.
          peerAddress: peer.address,
          // Created on first use: no handler on the hot path reads it, and an AbortController
          // (plus a DOMException when grpc-js reports the finished stream) costs per call.
          get signal(): AbortSignal {
            return signalOf(call);
          },
          header: (name: string) => call.metadata.get(name).map(String),
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

const signals = new WeakMap<grpc.ServerUnaryCall<Buffer, Buffer>, AbortSignal>();

/** The call's AbortSignal: aborted when grpc-js reports it cancelled (now or later). */
function signalOf(call: grpc.ServerUnaryCall<Buffer, Buffer>): AbortSignal {
  let signal = signals.get(call);
  if (!signal) {
    const controller = new AbortController();
    if (call.cancelled) controller.abort();
    else call.once("cancelled", () => controller.abort());
    signal = controller.signal;
    signals.set(call, signal);
  }
  return signal;
}

/** grpc-js gives the peer as `address:port` (IPv6 unbracketed); the port is always there on TCP. */
function peerIp(peer: string): string {
  return peer.replace(/:\d+$/, "");
}

/** What the transport says about a call's connection: its certificate's Caller and bare IP. */
interface Peer {
  readonly caller: Caller;
  readonly address: string;
}

/**
 * grpc-js exposes the peer certificate per call only, and `getPeerCertificate()` rebuilds it
 * (X.509 to a JS object, three fingerprints) on every call: the largest per-call cost of a
 * cached Verify. So the Peer is cached per HTTP/2 session, i.e. per TLS connection: a
 * connection's certificate cannot change (Node's http2 disables TLS renegotiation on every
 * session socket; TLS 1.3 has none), nor can its remote address. The session is reached
 * through grpc-js internals; when that path is missing (another grpc-js), every call reads
 * the certificate, and the parsed Caller is cached by the fingerprint Node computed (bounded).
 */
function createCallerCache(trustDomain: string) {
  const byFingerprint = new Map<string, Caller>();
  const bySession = new WeakMap<object, Peer>();
  const callerOf = (call: grpc.ServerUnaryCall<Buffer, Buffer>): Caller => {
    const certificate = call.getAuthContext().sslPeerCertificate;
    if (!certificate?.raw) return ANONYMOUS;
    let caller = byFingerprint.get(certificate.fingerprint256);
    if (!caller) {
      caller = callerFromCertificate(certificate.raw, trustDomain);
      if (byFingerprint.size >= MAX_CACHED_CALLERS) byFingerprint.clear();
      byFingerprint.set(certificate.fingerprint256, caller);
    }
    return caller;
  };
  return (call: grpc.ServerUnaryCall<Buffer, Buffer>): Peer => {
    const session = sessionOf(call);
    let peer = session && bySession.get(session);
    if (!peer) {
      // Errors (a certificate that names no role) are not cached: the next call throws again.
      peer = { caller: callerOf(call), address: peerIp(call.getPeer()) };
      if (session) bySession.set(session, peer);
    }
    return peer;
  };
}

interface InternalCall {
  readonly stream?: { readonly session?: unknown };
  readonly nextCall?: InternalCall;
}

/**
 * The call's HTTP/2 session (grpc-js ≥ 1.10: ServerUnaryCallImpl.call is the interceptor
 * chain, whose innermost BaseServerInterceptingCall holds the http2 stream). Undefined when
 * the shape differs, or the stream has no live session (then nothing is cached).
 */
function sessionOf(call: grpc.ServerUnaryCall<Buffer, Buffer>): object | undefined {
  let inner = (call as unknown as { readonly call?: InternalCall }).call;
  for (let depth = 0; inner && !inner.stream && depth < 16; depth++) inner = inner.nextCall;
  const session = inner?.stream?.session;
  return typeof session === "object" && session !== null ? session : undefined;
}
