import { type DescMessage, type Message, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { TransportLimits } from "../config/limits.js";
import { catalogEntry, toGatehouseError } from "../errors/index.js";
import { ANONYMOUS, type Caller } from "../identity/caller.js";
import {
  type ClientCertificateCheck,
  peerCertificateCaller,
} from "../identity/client-certificate.js";
import type { CallerResolver } from "../identity/forwarded.js";
import type { CallContext } from "../services/types.js";
import type { DispatchMethod } from "./dispatch.js";
import { applyGrpcTransportLimits } from "./grpc-limits.js";
import { retryAfterSeconds } from "./retry-after.js";
import { grpcStatusDetails } from "./status-details.js";
import type { TlsMaterial } from "./tls.js";

export interface GrpcServerOptions {
  readonly methods: readonly DispatchMethod[];
  readonly tls: TlsMaterial;
  /** The checks a client certificate passes before it names a caller (src/identity). */
  readonly certificates: ClientCertificateCheck;
  readonly maxMessageBytes: number;
  readonly transport: TransportLimits;
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
    // No channelz service is served, and its per-call tracking (closures, timestamps)
    // costs on every call.
    "grpc.enable_channelz": 0,
  });
  applyGrpcTransportLimits(server, options.transport);
  const callers = createCallerCache(options.certificates);
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
      implementation[entry.method.localName] = unaryHandler(entry, path, callers, options);
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

type UnaryCall = grpc.ServerUnaryCall<Buffer, Buffer>;

function unaryHandler(
  entry: DispatchMethod,
  target: string,
  peerOf: (call: UnaryCall) => Peer,
  { resolveCaller }: GrpcServerOptions,
): grpc.handleUnaryCall<Buffer, Buffer> {
  const output = entry.method.output;
  const decode = entry.decode;
  return (call, callback) => {
    let response: Promise<Message>;
    try {
      const peer = peerOf(call);
      const header = headerReader(call);
      const caller = resolveCaller({
        peerCaller: peer.caller,
        peerAddress: peer.address,
        authority: call.getHost(),
        target,
        header,
      });
      // The bare IP, as on the Connect port: rate limits count per source address.
      const context = new GrpcCallContext(call, caller, peer.address, header);
      response = entry.invoke(decode(call.request), context);
    } catch (error) {
      // Whatever throws before the service runs (a refused forwarded identity, a malformed
      // request) is a typed error too. Not an async function: one promise less per call.
      callback(serviceError(error));
      return;
    }
    response.then(
      (message) => respond(callback, output, message),
      (error: unknown) => callback(serviceError(error)),
    );
  };
}

/** Sends the encoded response; a message that cannot be encoded is an INTERNAL error. */
function respond(
  callback: grpc.sendUnaryData<Buffer>,
  output: DescMessage,
  message: Message,
): void {
  let bytes: Buffer;
  try {
    bytes = encode(output, message);
  } catch (error) {
    callback(serviceError(error));
    return;
  }
  callback(null, bytes);
}

/**
 * Encoded frozen responses. A handler freezes (deeply) an answer it hands out again and
 * again (Verify's allowed answer for a cached token): its bytes cannot change, so they are
 * encoded once. grpc-js copies them into each response frame and never writes to them.
 */
const encodedFrozen = new WeakMap<Message, Buffer>();

export function encode(schema: DescMessage, message: Message): Buffer {
  if (!Object.isFrozen(message)) return asBuffer(toBinary(schema, message));
  let bytes = encodedFrozen.get(message);
  if (!bytes) {
    bytes = asBuffer(toBinary(schema, message));
    encodedFrozen.set(message, bytes);
  }
  return bytes;
}

/** toBinary returns a fresh array: its memory is used as is, without a copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The status, details and trailers of a failed call (Connect's Code numbers are gRPC's). */
function serviceError(error: unknown): Partial<grpc.StatusObject> {
  const typed = toGatehouseError(error);
  const metadata = new grpc.Metadata();
  metadata.set("grpc-status-details-bin", grpcStatusDetails(typed));
  const retryAfter = retryAfterSeconds(typed);
  if (retryAfter !== undefined) metadata.set("retry-after", retryAfter);
  const code = catalogEntry(typed.reason).code as number as grpc.status;
  return { code, details: typed.message, metadata };
}

/** Shared by every absent header: most calls read several (signed-request headers) and send none. */
const NO_VALUES: readonly string[] = Object.freeze([]);

/** Every value of a request header (metadata key), as strings; [] when absent. */
function headerReader(call: UnaryCall): (name: string) => readonly string[] {
  return (name) => {
    const values = call.metadata.get(name);
    return values.length === 0 ? NO_VALUES : values.map(String);
  };
}

/**
 * A call's CallContext: one object per call. Its AbortSignal is created on first use only:
 * no handler on the hot path reads it, and an AbortController (plus a DOMException when
 * grpc-js reports the finished stream) costs per call.
 */
class GrpcCallContext implements CallContext {
  readonly #call: UnaryCall;
  #signal: AbortSignal | undefined;

  constructor(
    call: UnaryCall,
    readonly caller: Caller,
    readonly peerAddress: string,
    readonly header: (name: string) => readonly string[],
  ) {
    this.#call = call;
  }

  get signal(): AbortSignal {
    this.#signal ??= abortSignalOf(this.#call);
    return this.#signal;
  }
}

/** An AbortSignal aborted when grpc-js reports the call cancelled (now or later). */
function abortSignalOf(call: UnaryCall): AbortSignal {
  const controller = new AbortController();
  if (call.cancelled) controller.abort();
  else call.once("cancelled", () => controller.abort());
  return controller.signal;
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
function createCallerCache(certificates: ClientCertificateCheck) {
  const byFingerprint = new Map<string, Caller>();
  const bySession = new WeakMap<object, Peer>();
  const callerOf = (call: UnaryCall): Caller => {
    const certificate = call.getAuthContext().sslPeerCertificate;
    if (!certificate?.raw) return ANONYMOUS;
    let caller = byFingerprint.get(certificate.fingerprint256);
    if (!caller) {
      caller = peerCertificateCaller(certificates, certificate.raw);
      if (byFingerprint.size >= MAX_CACHED_CALLERS) byFingerprint.clear();
      byFingerprint.set(certificate.fingerprint256, caller);
    }
    return caller;
  };
  return (call: UnaryCall): Peer => {
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
function sessionOf(call: UnaryCall): object | undefined {
  let inner = (call as unknown as { readonly call?: InternalCall }).call;
  for (let depth = 0; inner && !inner.stream && depth < 16; depth++) inner = inner.nextCall;
  const session = inner?.stream?.session;
  return typeof session === "object" && session !== null ? session : undefined;
}
