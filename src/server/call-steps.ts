import type { Message } from "@bufbuild/protobuf";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../errors/index.js";
import type { Role } from "../identity/caller.js";
import { ANONYMOUS, type Caller } from "../identity/caller.js";
import type { CallerResolver } from "../identity/forwarded.js";
import type { PeerIdentities } from "../identity/peer-identity.js";
import type { RequestAuthenticator, SignedMethod } from "../identity/signed-request.js";
import type { CallContext } from "../services/types.js";
import { authorizeRoles, type RateLimitName } from "./policy.js";

/** What a transport extracts from one call, and nothing more. */
export interface TransportCall {
  /** The connection the call came on (its TLS socket); undefined when unknown. */
  readonly connection: object | undefined;
  /** The DER client certificate the peer presented; read once per connection. */
  peerCertificate(): Uint8Array | undefined;
  /** The peer's bare IP address; read once per connection. */
  peerAddress(): string;
  /** `:authority` (HTTP/1.1: `Host`) as received. */
  readonly authority: string;
  /** Every value of a request header (metadata key), lowercase name; [] when absent. */
  readonly header: (name: string) => readonly string[];
  /** Aborted when the client cancels; made on first use only. */
  readonly signal: AbortSignal;
}

/**
 * A rate limit of the per-RPC table's `rateLimit` column: throws RATE_LIMITED (with its
 * retry-after) or returns. It sees the decoded, not yet validated, request (a limit may
 * have buckets by a request field, such as the challenge kind).
 */
export type RateLimitCheck = (request: Message, call: CallContext) => Promise<void>;

/** Every named limit of the table, supplied by the composition root. */
export type RateLimitChecks = Readonly<Record<Exclude<RateLimitName, "none">, RateLimitCheck>>;

/** The method a call is for, as the steps read it (built once per method). */
export interface CallMethod extends SignedMethod {
  /** `/package.Service/Method`: what a forwarded identity's MAC binds. */
  readonly path: string;
  /** Whether this server's role serves the method (policy.ts `servedBy`). */
  readonly served: boolean;
  /** The roles the per-RPC table lets call it (policy.ts), read once per method. */
  readonly roles: readonly Role[];
  readonly rateLimit: RateLimitCheck | undefined;
  /** Throws INVALID_ARGUMENT naming the first field that breaks the contract's rules. */
  readonly validate: (request: Message) => void;
}

/** What the steps depend on, built by the composition root. */
export interface CallDeps {
  readonly peers: PeerIdentities;
  readonly resolveCaller: CallerResolver;
  readonly authenticate: RequestAuthenticator | undefined;
}

/**
 * One call as it passes the steps; the identity steps set `caller` and `peerAddress`. It is
 * also the CallContext the rate limit and the handler see (one object per call).
 */
export class CallState implements CallContext {
  caller: Caller = ANONYMOUS;
  peerAddress = "";

  constructor(
    readonly method: CallMethod,
    readonly transport: TransportCall,
    readonly request: Message,
  ) {}

  /** Made by the transport on first use only (an AbortSignal costs). */
  get signal(): AbortSignal {
    return this.transport.signal;
  }

  get header(): (name: string) => readonly string[] {
    return this.transport.header;
  }
}

/** One step of a call: throws a GatehouseError to refuse it, or returns (maybe a promise). */
export type CallStep = (state: CallState, deps: CallDeps) => undefined | Promise<void>;

/** A method this server's role does not serve reads no state at all. */
export const servedStep: CallStep = ({ method }) => {
  if (!method.served) throw new GatehouseError(Reason.METHOD_NOT_SERVED);
  return undefined;
};

/** The TLS peer's certificate names the caller (src/identity/peer-identity.ts, per connection). */
export const peerIdentityStep: CallStep = (state, { peers }) => {
  const peer = peers(state.transport);
  state.caller = peer.caller;
  state.peerAddress = peer.address;
  return undefined;
};

/**
 * A trusted proxy may name another caller (src/identity/forwarded.ts), and the address its
 * client connected from: that is then the call's source address (rate limits); others are
 * ignored.
 */
export const forwardedIdentityStep: CallStep = (state, { resolveCaller }) => {
  const { transport } = state;
  state.caller = resolveCaller({
    peerCaller: state.caller,
    peerAddress: state.peerAddress,
    authority: transport.authority,
    target: state.method.path,
    header: transport.header,
  });
  if (state.caller.address !== undefined) state.peerAddress = state.caller.address;
  return undefined;
};

/** An operator's Ed25519-signed request names the operator (src/identity/signed-request.ts). */
export const signedRequestStep: CallStep = (state, { authenticate }) => {
  const proving = authenticate?.(state.method, state.request, {
    caller: state.caller,
    header: state.transport.header,
  });
  if (proving === undefined) return undefined;
  return proving.then((caller) => {
    state.caller = caller;
  });
};

/** The per-RPC table's roles column (policy.ts). */
export const authorizeStep: CallStep = ({ method, caller }) => {
  authorizeRoles(method.roles, caller);
  return undefined;
};

/** The per-RPC table's rate-limit column: counted for every authorized call, valid or not. */
export const rateLimitStep: CallStep = (state) => {
  const limit = state.method.rateLimit;
  return limit === undefined ? undefined : limit(state.request, state);
};

/** The contract's field rules (src/validation). */
export const validateStep: CallStep = ({ method, request }) => {
  method.validate(request);
  return undefined;
};
