import type {
  DescMessage,
  DescMethod,
  Message,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { Caller } from "../identity/caller.js";
import type { PreEncoded } from "./pre-encoded.js";

/** What a service learns about a call, whichever transport carried it. */
export interface CallContext {
  /** The caller, from its verified client certificate. */
  readonly caller: Caller;
  /** The remote address as the transport saw it (for rate limits and audit). */
  readonly peerAddress: string;
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** The values of a request header (gRPC metadata), lowercase name; [] when absent. */
  readonly header?: (name: string) => readonly string[];
}

type UnaryHandler<M extends DescMethod> = M extends {
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
}
  ? (request: MessageShape<I>, call: CallContext) => Promise<MessageInitShape<O> | PreEncoded<O>>
  : never;

/**
 * A protocol-agnostic service implementation: one async function per RPC, keyed by the
 * method's local name. The gRPC and Connect adapters both serve these.
 */
export type ServiceHandlers<S extends GenServiceMethods> = {
  readonly [K in keyof S]: UnaryHandler<GenService<S>["method"][K]>;
};

/**
 * Request decoders of a service's own, by request type name, used instead of `fromBinary`:
 * for requests whose full decode costs far more than the few fields the service reads.
 */
export type RequestDecoders = ReadonlyMap<string, (bytes: Uint8Array) => Message>;

/** A service descriptor paired with its implementation. */
export interface ServiceBinding<S extends GenServiceMethods = GenServiceMethods> {
  readonly service: GenService<S>;
  readonly handlers: ServiceHandlers<S>;
  readonly decoders?: RequestDecoders;
}

export function bindService<S extends GenServiceMethods>(
  service: GenService<S>,
  handlers: ServiceHandlers<S>,
  decoders?: RequestDecoders,
): ServiceBinding {
  return { service, handlers, ...(decoders && { decoders }) } as unknown as ServiceBinding;
}
