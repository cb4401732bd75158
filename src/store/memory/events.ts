import type { InvalidationBus, InvalidationEvent, InvalidationListener } from "../ports.js";

/**
 * The in-process bus of the embedded store: one replica, so publishing is delivering to
 * this process's listeners, synchronously.
 */
export function createMemoryInvalidationBus(): InvalidationBus {
  const listeners = new Set<InvalidationListener>();
  return {
    async publish(event: InvalidationEvent) {
      deliver(listeners, event);
    },
    async subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

/** Calls every listener; one that throws does not keep the event from the others. */
export function deliver(listeners: Iterable<InvalidationListener>, event: InvalidationEvent): void {
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch {
      // A listener only drops cache entries; its failure must not break the publisher.
    }
  }
}
