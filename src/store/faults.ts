import type { Store } from "./ports.js";

/**
 * The store could not be reached or refused to persist (Redis down or too slow, a disk
 * that is full or read-only): nothing was acknowledged, and the same call may succeed
 * later. The API answers UNAVAILABLE (src/errors), never INTERNAL: a fault of the
 * environment, not a bug, and retryable. The message is for logs only.
 */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super("store unavailable", { cause });
    this.name = "StoreUnavailableError";
  }
}

/** Tells an adapter's environment fault (connection lost, disk full) from a bug. */
export type FaultClassifier = (error: unknown) => boolean;

/**
 * The one place an adapter's faults become StoreUnavailableError: every method of every
 * port is wrapped so a rejection (or throw) that `isFault` recognises is rethrown typed;
 * anything else (a bug, a precondition error) passes through unchanged. Methods run
 * bound to their own port, so check-and-set atomicity and private fields are untouched.
 */
export function withFaultMapping(store: Store, isFault: FaultClassifier): Store {
  const translate = (error: unknown): never => {
    throw isFault(error) ? new StoreUnavailableError(error) : error;
  };
  const guard = <T extends object>(port: T): T => {
    const guarded: Record<string, unknown> = {};
    for (const name of methodNames(port)) {
      const method = (port as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
      guarded[name] = (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = method.apply(port, args);
        } catch (error) {
          return translate(error);
        }
        return result instanceof Promise ? result.catch(translate) : result;
      };
    }
    return guarded as T;
  };
  return {
    challenges: guard(store.challenges),
    passes: guard(store.passes),
    nonces: guard(store.nonces),
    registry: guard(store.registry),
    revocations: guard(store.revocations),
    issuedTokens: guard(store.issuedTokens),
    signingKeys: guard(store.signingKeys),
    rateLimits: guard(store.rateLimits),
    events: guard(store.events),
    envelopes: guard(store.envelopes),
    audit: guard(store.audit),
    grants: guard(store.grants),
    approvers: guard(store.approvers),
    approvalTickets: guard(store.approvalTickets),
    sessions: guard(store.sessions),
    // Readiness keeps its own message (which probe failed, and how).
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

/** A port's methods: own function properties (object literals) and its classes' methods. */
function methodNames(port: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = port; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === "constructor") continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (typeof descriptor?.value === "function") names.add(name);
    }
  }
  return [...names];
}
