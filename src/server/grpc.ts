import { type DescMessage, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { TransportLimits } from "../config/limits.js";
import { catalogEntry, toGatehouseError } from "../errors/index.js";
import { PreEncoded } from "../services/pre-encoded.js";
import type { DispatchMethod, DispatchResponse, TransportCall } from "./dispatch.js";
import { connectionOf } from "./grpc-internals.js";
import { applyGrpcTransportLimits } from "./grpc-limits.js";
import { retryAfterSeconds } from "./retry-after.js";
import { grpcStatusDetails } from "./status-details.js";
import type { TlsMaterial } from "./tls.js";

export interface GrpcServerOptions {
  readonly methods: readonly DispatchMethod[];
  readonly tls: TlsMaterial;
  readonly maxMessageBytes: number;
  readonly transport: TransportLimits;
  /** Extra services on the same port (health, reflection). */
  readonly extras?: (server: grpc.Server) => void;
}

const identity = (value: Buffer): Buffer => value;

/**
 * The native gRPC transport (the fast path). It only extracts what the dispatcher's call
 * steps read (connection, certificate, address, authority, headers); requests are decoded by
 * the dispatcher, not by grpc-js, so malformed bytes become INVALID_ARGUMENT rather than an
 * opaque INTERNAL.
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
  const services = new Set(options.methods.map((m) => m.method.parent.typeName));
  for (const serviceName of services) {
    const methods = options.methods.filter((m) => m.method.parent.typeName === serviceName);
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const entry of methods) {
      definition[entry.method.localName] = {
        path: `/${serviceName}/${entry.method.name}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      };
      implementation[entry.method.localName] = unaryHandler(entry);
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

function unaryHandler(entry: DispatchMethod): grpc.handleUnaryCall<Buffer, Buffer> {
  const output = entry.method.output;
  const decode = entry.decode;
  return (call, callback) => {
    let response: Promise<DispatchResponse>;
    try {
      response = entry.invoke(decode(call.request), new GrpcTransportCall(call));
    } catch (error) {
      // A malformed request is a typed error too. Not an async function: one promise less
      // per call.
      callback(serviceError(error));
      return;
    }
    response.then(
      (message) => respond(callback, output, message),
      (error: unknown) => callback(serviceError(error)),
    );
  };
}

/**
 * Sends the encoded response: a PreEncoded one as it is (grpc-js copies the bytes into the
 * response frame and never writes to them); a message that cannot be encoded is INTERNAL.
 */
function respond(
  callback: grpc.sendUnaryData<Buffer>,
  output: DescMessage,
  response: DispatchResponse,
): void {
  let bytes: Buffer;
  try {
    bytes = response instanceof PreEncoded ? response.binary : asBuffer(toBinary(output, response));
  } catch (error) {
    callback(serviceError(error));
    return;
  }
  callback(null, bytes);
}

/** The bytes' memory used as is, without a copy. */
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
 * What the dispatcher reads of one grpc-js call. Its AbortSignal is created on first use
 * only: no handler on the hot path reads it, and an AbortController (plus a DOMException when
 * grpc-js reports the finished stream) costs per call.
 */
class GrpcTransportCall implements TransportCall {
  readonly #call: UnaryCall;
  #signal: AbortSignal | undefined;
  readonly connection: object | undefined;
  readonly header: (name: string) => readonly string[];

  constructor(call: UnaryCall) {
    this.#call = call;
    this.connection = connectionOf(call);
    this.header = headerReader(call);
  }

  get authority(): string {
    return this.#call.getHost();
  }

  peerCertificate(): Uint8Array | undefined {
    return this.#call.getAuthContext().sslPeerCertificate?.raw;
  }

  /** grpc-js gives the peer as `address:port` (IPv6 unbracketed); the port is always there. */
  peerAddress(): string {
    return this.#call.getPeer().replace(/:\d+$/, "");
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
