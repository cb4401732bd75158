import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type Message,
} from "@bufbuild/protobuf";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { ServerRole } from "../config/index.js";
import { GatehouseError, toGatehouseError } from "../errors/index.js";
import type { Logger } from "../observability/logger.js";
import type { CallContext, ServiceBinding } from "../services/types.js";
import { validatorFor } from "../validation/validator.js";
import { authorize, servedBy } from "./policy.js";
import { REQUEST_DECODERS } from "./request-decoders.js";

/** One RPC, ready for any transport: authorize → validate → handle, errors typed. */
export interface DispatchMethod {
  /** `package.Service/Method`, the key of the policy table. */
  readonly fullName: string;
  readonly method: DescMethod;
  /** Runs a decoded request. Throws only GatehouseError. */
  invoke(request: Message, call: CallContext): Promise<Message>;
  /** Decodes binary protobuf; malformed input is INVALID_ARGUMENT, never INTERNAL. */
  decode(bytes: Uint8Array): Message;
}

/**
 * Authenticates a call by something other than its certificate (a signed operator request,
 * src/identity/signed-request.ts): returns the caller it proves, undefined when the call
 * does not use it, and throws a typed error when it uses it wrongly. It may answer "not
 * used" synchronously (every other call pays no await for it).
 */
export type RequestAuthenticator = (
  method: DispatchMethod,
  request: Message,
  call: CallContext,
) => Promise<CallContext["caller"] | undefined> | undefined;

/**
 * Told of every call's outcome once it is decided: the decoded request, the typed reason
 * (UNSPECIFIED when it succeeded) and `performance.now()` when dispatch began. Built once per
 * method (src/observability/rpc-metrics.ts), so a call pays no look-up.
 */
export type CallObserver = (request: Message, reason: Reason, startedMs: number) => void;

export interface DispatchOptions {
  readonly bindings: readonly ServiceBinding[];
  readonly logger: Logger;
  readonly authenticate?: RequestAuthenticator;
  /** Metrics: one observer per method, for the transport this dispatch serves. */
  readonly observe?: (method: DispatchMethod) => CallObserver;
  /** This server's role (policy.ts `servedBy`); default "all". */
  readonly role?: ServerRole;
}

export function createDispatch({
  bindings,
  logger,
  authenticate,
  observe,
  role = "all",
}: DispatchOptions): DispatchMethod[] {
  return bindings.flatMap(({ service, handlers }) =>
    service.methods.map((method) => {
      const fullName = `${service.typeName}/${method.name}`;
      const handler = (handlers as unknown as Record<string, Handler>)[method.localName];
      if (!handler) throw new Error(`no handler for ${fullName}`);
      const validate = validatorFor(method.input);
      const served = servedBy(role, fullName);
      const entry: DispatchMethod = {
        fullName,
        method,
        decode: decoderFor(method.input),
        async invoke(request: Message, given: CallContext): Promise<Message> {
          // Read once per call, before anything else: without debug, no clock and no line.
          const started = logger.isLevelEnabled("debug") ? performance.now() : undefined;
          const began = observed === undefined ? 0 : performance.now();
          let call = given;
          try {
            // Before anything else: a method this role does not serve reads no state at all.
            if (!served) throw new GatehouseError(Reason.METHOD_NOT_SERVED);
            const proving = authenticate?.(entry, request, call);
            const proven = proving === undefined ? undefined : await proving;
            if (proven) call = withCaller(call, proven);
            authorize(fullName, call.caller);
            validate(request);
            const response = create(method.output, await handler(request, call));
            logCall(logger, fullName, call, started, Reason.UNSPECIFIED);
            observed?.(request, Reason.UNSPECIFIED, began);
            return response;
          } catch (error) {
            const typed = toGatehouseError(error);
            if (typed.reason === Reason.INTERNAL || typed.reason === Reason.UNAVAILABLE) {
              logger.error({ method: fullName, err: typed.cause ?? typed }, "rpc failed");
            }
            logCall(logger, fullName, call, started, typed.reason);
            observed?.(request, typed.reason, began);
            throw typed;
          }
        },
      };
      const observed = observe?.(entry);
      return entry;
    }),
  );
}

/**
 * The call as made by `caller`. Not a spread: a transport's context may be a class whose
 * `signal` is a lazy getter on its prototype, which a spread would leave behind.
 */
function withCaller(call: CallContext, caller: CallContext["caller"]): CallContext {
  return {
    caller,
    peerAddress: call.peerAddress,
    get signal() {
      return call.signal;
    },
    ...(call.header && { header: call.header }),
  };
}

/**
 * One debug line per call: method, outcome, latency and the caller's certificate
 * fingerprint. Never a request or response field: those carry the secrets.
 */
function logCall(
  logger: Logger,
  method: string,
  call: CallContext,
  started: number | undefined,
  reason: Reason,
): void {
  if (started === undefined || !logger.isLevelEnabled("debug")) return;
  logger.debug(
    {
      method,
      outcome: reason === Reason.UNSPECIFIED ? "ok" : Reason[reason],
      ms: Math.round((performance.now() - started) * 100) / 100,
      caller: call.caller.fingerprint.slice(0, 16),
      role: call.caller.role,
    },
    "rpc",
  );
}

type Handler = (request: Message, call: CallContext) => Promise<Record<string, unknown>>;

/** The schema's own decoder (request-decoders.ts), else `fromBinary`; errors typed. */
function decoderFor(schema: DescMessage): (bytes: Uint8Array) => Message {
  const read = REQUEST_DECODERS.get(schema.typeName) ?? ((bytes) => fromBinary(schema, bytes));
  return (bytes) => {
    try {
      return read(bytes);
    } catch {
      throw new GatehouseError(Reason.INVALID_ARGUMENT, { description: "malformed request" });
    }
  };
}
