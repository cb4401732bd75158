import type { Logger } from "../observability/logger.js";

/** How often the store is probed; with the store's own ping timeout, how soon health flips. */
export const STORE_PROBE_INTERVAL_MS = 1_000;

export interface StoreHealthOptions {
  /** Resolves when the store answers (Store.ping, itself bounded in time). */
  readonly ping: () => Promise<void>;
  /** Receives every change: false while the store cannot be reached. */
  readonly setServing: (serving: boolean) => void;
  readonly logger: Logger;
  readonly intervalMs?: number;
}

/**
 * Keeps gRPC health (grpc.health.v1) in step with the store: a replica whose store cannot
 * be reached answers every stateful call UNAVAILABLE, so it reports NOT_SERVING and load
 * balancers and probes send traffic elsewhere; it reports SERVING again once the store
 * answers. One probe at a time; the timer never keeps the process alive.
 */
export function watchStoreHealth(options: StoreHealthOptions): { stop(): void } {
  const { ping, setServing, logger } = options;
  let serving = true;
  let probing = false;
  const probe = async (): Promise<void> => {
    if (probing) return;
    probing = true;
    let reachable = true;
    try {
      await ping();
    } catch (err) {
      reachable = false;
      if (serving) logger.warn({ err }, "store unreachable: health NOT_SERVING");
    } finally {
      probing = false;
    }
    if (reachable && !serving) logger.info("store reachable again: health SERVING");
    if (reachable !== serving && timer !== undefined) {
      serving = reachable;
      setServing(reachable);
    }
  };
  let timer: NodeJS.Timeout | undefined = setInterval(
    () => void probe(),
    options.intervalMs ?? STORE_PROBE_INTERVAL_MS,
  ).unref();
  return {
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
