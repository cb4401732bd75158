import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { Caller } from "../identity/caller.js";

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
  ? (request: MessageShape<I>, call: CallContext) => Promise<MessageInitShape<O>>
  : never;

/**
 * A protocol-agnostic service implementation: one async function per RPC, keyed by the
 * method's local name. The gRPC and Connect adapters both serve these.
 */
export type ServiceHandlers<S extends GenServiceMethods> = {
  readonly [K in keyof S]: UnaryHandler<GenService<S>["method"][K]>;
};

/** A service descriptor paired with its implementation. */
export interface ServiceBinding<S extends GenServiceMethods = GenServiceMethods> {
  readonly service: GenService<S>;
  readonly handlers: ServiceHandlers<S>;
}

export function bindService<S extends GenServiceMethods>(
  service: GenService<S>,
  handlers: ServiceHandlers<S>,
): ServiceBinding {
  return { service, handlers } as unknown as ServiceBinding;
}
