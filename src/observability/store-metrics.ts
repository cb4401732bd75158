import type { Store } from "../store/ports.js";
import type { Observer } from "./histogram.js";
import type { GatehouseMetrics } from "./metrics.js";

type PortName = Exclude<keyof Store, "ping" | "close">;

/** Every method of a port, named: the compiler refuses a table that misses one. */
type AllMethods<P> = { readonly [M in keyof P]: true };

/**
 * The operations measured, port by port: each becomes the label `<port>.<method>`, a finite
 * set fixed here. A new method on a port fails to compile until it is listed.
 */
const OPERATIONS: { readonly [K in PortName]: AllMethods<Store[K]> } = {
  challenges: { put: true, consume: true },
  passes: { put: true, consume: true },
  nonces: { useOnce: true },
  registry: {
    createOperator: true,
    getOperator: true,
    setOperatorStatus: true,
    patchOperator: true,
    createAgent: true,
    getAgent: true,
    updateAgent: true,
    listAgents: true,
  },
  revocations: { revoke: true, isRevoked: true, revokeIssuedUntil: true, issuedUntil: true },
  issuedTokens: { record: true, get: true },
  signingKeys: { list: true, add: true },
  rateLimits: { hit: true, hitEach: true },
  events: { publish: true, subscribe: true },
  envelopes: { spend: true, freeze: true, isFrozen: true },
  audit: { head: true, append: true, read: true, key: true, base: true, prune: true },
  grants: {
    create: true,
    get: true,
    update: true,
    list: true,
    recordDenial: true,
    cooldownUntil: true,
    resetDenials: true,
  },
  approvers: {
    create: true,
    get: true,
    findByCredential: true,
    listByDomain: true,
    remove: true,
    updateCounter: true,
  },
  approvalTickets: { put: true, consume: true },
  sessions: { put: true, get: true, delete: true },
};

type AnyMethod = (...args: unknown[]) => unknown;

/**
 * The store, measured: every port method's latency and failures by operation, recorded
 * here around the ports (a decorator) rather than in the services that call them. Calls
 * pass through unchanged, `this` included; the children are bound once per operation.
 */
export function instrumentStore(store: Store, metrics: GatehouseMetrics): Store {
  const ports = Object.fromEntries(
    (Object.keys(OPERATIONS) as PortName[]).map((name) => [
      name,
      instrumentPort(name, store[name], OPERATIONS[name], metrics),
    ]),
  ) as unknown as Pick<Store, PortName>;
  return {
    ...ports,
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

function instrumentPort(
  portName: string,
  port: object,
  methods: object,
  metrics: GatehouseMetrics,
): object {
  const target = port as Record<string, AnyMethod>;
  return Object.fromEntries(
    Object.keys(methods).map((method) => [
      method,
      timed(target, method, `${portName}.${method}`, metrics),
    ]),
  );
}

function timed(
  port: Record<string, AnyMethod>,
  method: string,
  operation: string,
  metrics: GatehouseMetrics,
): AnyMethod {
  const original = port[method];
  if (typeof original !== "function") throw new Error(`store port lacks ${operation}`);
  const duration = metrics.storeDuration.labels(operation);
  const errors = metrics.storeErrors.labels(operation);
  const failed = (error: unknown): never => {
    errors.inc();
    throw error;
  };
  return (...args) => {
    const started = performance.now();
    let result: unknown;
    try {
      result = original.apply(port, args);
    } catch (error) {
      observeSince(duration, started);
      return failed(error);
    }
    if (!(result instanceof Promise)) {
      observeSince(duration, started);
      return result;
    }
    return result.then(
      (value: unknown) => {
        observeSince(duration, started);
        return value;
      },
      (error: unknown) => {
        observeSince(duration, started);
        return failed(error);
      },
    );
  };
}

/** Seconds since `started` (performance.now()), observed. A function, not a per-call closure. */
function observeSince(duration: Observer, started: number): void {
  duration.observe((performance.now() - started) / 1000);
}

/** Every `operation` label value the decorator can produce (for tests and dashboards). */
export const STORE_OPERATIONS: readonly string[] = Object.entries(OPERATIONS).flatMap(
  ([port, methods]) => Object.keys(methods).map((method) => `${port}.${method}`),
);
