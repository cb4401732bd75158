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
import type { CallerResolver } from "../identity/forwarded.js";
import type { PeerIdentities } from "../identity/peer-identity.js";
import type { RequestAuthenticator } from "../identity/signed-request.js";
import type { Logger } from "../observability/logger.js";
import { PreEncoded } from "../services/pre-encoded.js";
import type { ServiceBinding } from "../services/types.js";
import { validatorFor } from "../validation/validator.js";
import {
  authorizeStep,
  type CallDeps,
  type CallMethod,
  CallState,
  type CallStep,
  forwardedIdentityStep,
  peerIdentityStep,
  type RateLimitChecks,
  rateLimitStep,
  servedStep,
  signedRequestStep,
  type TransportCall,
  validateStep,
} from "./call-steps.js";
import { operatorMayCall, rateLimitOf, rolesOf, servedBy } from "./policy.js";

export type { RateLimitChecks, TransportCall } from "./call-steps.js";

/**
 * The checks of every call, in order, before its handler runs; the order is a security
 * property. Nothing state-reading runs for a method this role does not serve; the caller is
 * known (its connection's certificate, then a trusted proxy's forwarded identity, then an
 * operator's signature) before the table is consulted; a call counts against its rate limit
 * once it is authorized, before anything else is spent on it; only a valid request reaches
 * the handler.
 */
export const CALL_STEPS: readonly CallStep[] = [
  servedStep,
  peerIdentityStep,
  forwardedIdentityStep,
  signedRequestStep,
  authorizeStep,
  rateLimitStep,
  validateStep,
];

/** A handler's answer: a message, or one encoded once (src/services/pre-encoded.ts). */
export type DispatchResponse = Message | PreEncoded;

/** One RPC, ready for any transport: CALL_STEPS → handle, errors typed. */
export interface DispatchMethod {
  /** `package.Service/Method`, the key of the policy table. */
  readonly fullName: string;
  readonly method: DescMethod;
  /** Runs a decoded request. Rejects only with a GatehouseError. */
  invoke(request: Message, call: TransportCall): Promise<DispatchResponse>;
  /** Decodes binary protobuf; malformed input is INVALID_ARGUMENT, never INTERNAL. */
  decode(bytes: Uint8Array): Message;
}

/**
 * Told of every call's outcome once it is decided: the decoded request, the typed reason
 * (UNSPECIFIED when it succeeded) and `performance.now()` when dispatch began. Built once per
 * method (src/observability/rpc-metrics.ts), so a call pays no look-up.
 */
export type CallObserver = (request: Message, reason: Reason, startedMs: number) => void;

export interface DispatchOptions {
  readonly bindings: readonly ServiceBinding[];
  readonly logger: Logger;
  /** The per-connection identity cache both transports share (src/identity/peer-identity.ts). */
  readonly peers: PeerIdentities;
  /** Decides whether a trusted proxy's forwarded identity replaces the peer's. */
  readonly resolveCaller: CallerResolver;
  readonly authenticate?: RequestAuthenticator;
  /** The named limits of the policy table's rate-limit column; a missing one fails start-up. */
  readonly rateLimits: RateLimitChecks;
  /** Metrics: one observer per method, for the transport this dispatch serves. */
  readonly observe?: (method: DispatchMethod) => CallObserver;
  /** This server's role (policy.ts `servedBy`); default "all". */
  readonly role?: ServerRole;
}

export function createDispatch(options: DispatchOptions): DispatchMethod[] {
  const { bindings, logger, observe, role = "all" } = options;
  const deps: CallDeps = {
    peers: options.peers,
    resolveCaller: options.resolveCaller,
    authenticate: options.authenticate,
  };
  return bindings.flatMap(({ service, handlers, decoders }) =>
    service.methods.map((method) => {
      const fullName = `${service.typeName}/${method.name}`;
      const handler = (handlers as unknown as Record<string, Handler>)[method.localName];
      if (!handler) throw new Error(`no handler for ${fullName}`);
      const called: CallMethod = {
        fullName,
        path: `/${fullName}`,
        input: method.input,
        operatorMayCall: operatorMayCall(fullName),
        served: servedBy(role, fullName),
        roles: rolesOf(fullName),
        rateLimit: rateLimitFor(fullName, options.rateLimits),
        validate: validatorFor(method.input),
      };
      const entry: DispatchMethod = {
        fullName,
        method,
        decode: decoderFor(method.input, decoders?.get(method.input.typeName)),
        async invoke(request, transport) {
          // Read once per call, before anything else: without debug, no clock and no line.
          const started = logger.isLevelEnabled("debug") ? performance.now() : undefined;
          const began = observed === undefined ? 0 : performance.now();
          const state = new CallState(called, transport, request);
          let reason = Reason.UNSPECIFIED;
          try {
            // Synchronous steps run in this call: no promise or microtask each (and, by
            // index, no iterator object kept alive across an await in this async function).
            for (let i = 0; i < CALL_STEPS.length; i++) {
              const pending = (CALL_STEPS[i] as CallStep)(state, deps);
              if (pending !== undefined) await pending;
            }
            const response = await handler(request, state);
            return response instanceof PreEncoded ? response : create(method.output, response);
          } catch (error) {
            const typed = toGatehouseError(error);
            if (typed.reason === Reason.INTERNAL || typed.reason === Reason.UNAVAILABLE) {
              logger.error({ method: fullName, err: typed.cause ?? typed }, "rpc failed");
            }
            reason = typed.reason;
            throw typed;
          } finally {
            logCall(logger, fullName, state, started, reason);
            observed?.(request, reason, began);
          }
        },
      };
      const observed = observe?.(entry);
      return entry;
    }),
  );
}

/** The limit the table names for `fullName`; a name with no check fails start-up. */
function rateLimitFor(fullName: string, checks: RateLimitChecks) {
  const name = rateLimitOf(fullName);
  if (name === undefined || name === "none") return undefined;
  const check = checks[name];
  if (!check) throw new Error(`no rate limit "${name}" for ${fullName}`);
  return check;
}

/**
 * One debug line per call: method, outcome, latency and the caller's certificate
 * fingerprint. Never a request or response field: those carry the secrets.
 */
function logCall(
  logger: Logger,
  method: string,
  { caller }: CallState,
  started: number | undefined,
  reason: Reason,
): void {
  if (started === undefined || !logger.isLevelEnabled("debug")) return;
  logger.debug(
    {
      method,
      outcome: reason === Reason.UNSPECIFIED ? "ok" : Reason[reason],
      ms: Math.round((performance.now() - started) * 100) / 100,
      caller: caller.fingerprint.slice(0, 16),
      role: caller.role,
    },
    "rpc",
  );
}

type Handler = (request: Message, call: CallState) => Promise<Record<string, unknown> | PreEncoded>;

/** The service's own decoder for the schema (ServiceBinding.decoders), else `fromBinary`. */
function decoderFor(
  schema: DescMessage,
  own: ((bytes: Uint8Array) => Message) | undefined,
): (bytes: Uint8Array) => Message {
  const read = own ?? ((bytes: Uint8Array) => fromBinary(schema, bytes));
  return (bytes) => {
    try {
      return read(bytes);
    } catch {
      throw new GatehouseError(Reason.INVALID_ARGUMENT, { description: "malformed request" });
    }
  };
}
