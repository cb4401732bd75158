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
import { PreEncoded } from "../services/pre-encoded.js";
import type { DispatchMethod, TransportCall } from "./dispatch.js";

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
}

export interface InMemoryTransport {
  connect(peer?: InMemoryPeer): InMemoryConnection;
}

const NO_VALUES: readonly string[] = Object.freeze([]);
const NEVER_ABORTED = new AbortController().signal;

/**
 * A transport without sockets over the composed methods, for tests and the in-process
 * bench. Like the network transports it only extracts what a call carries (connection,
 * certificate, address, authority, headers); the dispatcher's CALL_STEPS do the rest, the
 * peer's certificate checked once per connection and a trusted proxy's forwarded identity
 * included, from the request's bytes. Errors are the dispatcher's GatehouseErrors.
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
      // Stands for the TLS socket: the dispatcher caches the peer's identity per connection.
      const connection = {};
      const address = peer.address ?? "127.0.0.1";
      const authority = peer.authority ?? "in-memory";
      const der = peer.certificate === undefined ? undefined : derOf(peer.certificate);
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
          const call: TransportCall = {
            connection,
            peerCertificate: () => der,
            peerAddress: () => address,
            authority,
            header: headerReader(callOptions.headers),
            signal: callOptions.signal ?? NEVER_ABORTED,
          };
          const response = await entry.invoke(entry.decode(bytes), call);
          // As the gRPC transport sends it: a pre-encoded answer as it is.
          return response instanceof PreEncoded
            ? response.binary
            : toBinary(entry.method.output, response);
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
