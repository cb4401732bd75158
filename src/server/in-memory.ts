import { X509Certificate } from "node:crypto";
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError, toGatehouseError } from "../errors/index.js";
import { ANONYMOUS, type Caller } from "../identity/caller.js";
import {
  type ClientCertificateCheck,
  peerCertificateCaller,
} from "../identity/client-certificate.js";
import type { CallerResolver } from "../identity/forwarded.js";
import type { CallContext } from "../services/types.js";
import type { DispatchMethod } from "./dispatch.js";
import { encode } from "./grpc.js";

/** Who a connection is from, as a TLS handshake would have told the network transports. */
export interface InMemoryPeer {
  /** The client certificate (PEM or DER, text or bytes); absent: a peer without one. */
  readonly certificate?: string | Uint8Array;
  /** The peer's IP address; default 127.0.0.1. */
  readonly address?: string;
  /** `:authority`, which a forwarded identity's MAC covers; default `in-memory`. */
  readonly authority?: string;
}

export interface InMemoryCallOptions {
  /** Request headers (gRPC metadata), by lowercase name. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly signal?: AbortSignal;
}

/** One peer's connection: its certificate is checked once, as a TLS connection's is. */
export interface InMemoryConnection {
  /** Calls an RPC by its generated descriptor; the request and answer cross as bytes. */
  call<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options?: InMemoryCallOptions,
  ): Promise<MessageShape<O>>;
  /** Calls `/package.Service/Method` with request bytes as they came off the wire. */
  callBinary(path: string, request: Uint8Array, options?: InMemoryCallOptions): Promise<Uint8Array>;
  /** A client of one service: a function per RPC, keyed by its local name. */
  client<S extends DescService>(service: S): InMemoryClient<S>;
}

export type InMemoryClient<S extends DescService> = {
  readonly [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: InMemoryCallOptions) => Promise<MessageShape<O>>
    : never;
};

export interface InMemoryTransportOptions {
  /** The dispatcher's methods (src/app/compose.ts `methods()`). */
  readonly methods: readonly DispatchMethod[];
  readonly certificates: ClientCertificateCheck;
  readonly resolveCaller: CallerResolver;
}

export interface InMemoryTransport {
  connect(peer?: InMemoryPeer): InMemoryConnection;
}

const NO_VALUES: readonly string[] = Object.freeze([]);
const NEVER_ABORTED = new AbortController().signal;

/**
 * A transport without sockets over the composed methods, for tests and the in-process
 * bench: the peer's certificate passes the network transports' checks, the caller is
 * resolved as theirs is (a trusted proxy's forwarded identity included), and the request
 * goes through the dispatcher (role, signed request, authorization, validation) from its
 * bytes. Errors are the dispatcher's GatehouseErrors, with their reason.
 */
export function createInMemoryTransport(options: InMemoryTransportOptions): InMemoryTransport {
  const byPath = new Map(
    options.methods.map((entry) => [
      `/${entry.method.parent.typeName}/${entry.method.name}`,
      entry,
    ]),
  );
  return {
    connect(peer = {}) {
      let peerCaller: Caller | undefined;
      const address = peer.address ?? "127.0.0.1";
      const authority = peer.authority ?? "in-memory";
      const callerOf = (): Caller => {
        const { certificate } = peer;
        if (certificate === undefined) return ANONYMOUS;
        // Cached per connection, as the gRPC transport caches per HTTP/2 session.
        peerCaller ??= peerCertificateCaller(options.certificates, derOf(certificate));
        return peerCaller;
      };
      const callBinary = async (
        path: string,
        bytes: Uint8Array,
        callOptions: InMemoryCallOptions = {},
      ): Promise<Uint8Array> => {
        try {
          const entry = byPath.get(path);
          if (!entry) {
            throw new GatehouseError(Reason.METHOD_NOT_SERVED, { description: "no such method" });
          }
          const header = headerReader(callOptions.headers);
          const caller = options.resolveCaller({
            peerCaller: callerOf(),
            peerAddress: address,
            authority,
            target: path,
            header,
          });
          const context: CallContext = {
            caller,
            peerAddress: address,
            signal: callOptions.signal ?? NEVER_ABORTED,
            header,
          };
          const response = await entry.invoke(entry.decode(bytes), context);
          // As the gRPC transport encodes: a frozen answer once (grpc.ts `encode`).
          return encode(entry.method.output, response);
        } catch (error) {
          throw toGatehouseError(error);
        }
      };
      const call = async <I extends DescMessage, O extends DescMessage>(
        method: DescMethodUnary<I, O>,
        request: MessageInitShape<I>,
        callOptions?: InMemoryCallOptions,
      ): Promise<MessageShape<O>> => {
        const path = `/${method.parent.typeName}/${method.name}`;
        const bytes = toBinary(method.input, create(method.input, request));
        return fromBinary(method.output, await callBinary(path, bytes, callOptions));
      };
      return {
        call,
        callBinary,
        client<S extends DescService>(service: S) {
          return Object.fromEntries(
            service.methods.map((method) => [
              method.localName,
              (request: MessageInitShape<DescMessage>, callOptions?: InMemoryCallOptions) =>
                call(method as DescMethodUnary<DescMessage, DescMessage>, request, callOptions),
            ]),
          ) as InMemoryClient<S>;
        },
      };
    },
  };
}

/** PEM or DER, as text or bytes. */
function derOf(certificate: string | Uint8Array): Uint8Array {
  return new X509Certificate(certificate).raw;
}

/** Every value of a header, as the gRPC transport reads metadata; [] when absent. */
function headerReader(
  headers: InMemoryCallOptions["headers"] = {},
): (name: string) => readonly string[] {
  return (name) => {
    const values = headers[name];
    if (values === undefined) return NO_VALUES;
    return typeof values === "string" ? [values] : values;
  };
}
