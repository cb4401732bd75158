import type { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { InvalidationEvent } from "../store/ports.js";
import type { VerifyCacheName } from "../verify/cache.js";
import { boundBy } from "./bound.js";
import type { GatehouseMetrics } from "./metrics.js";
import { reasonLabel } from "./rpc-metrics.js";

/** Counts Verify's or Check's decisions by reason (`reasonLabel`): the services' hook. */
export function decisionCounter(
  metrics: GatehouseMetrics,
  rpc: "verify" | "check",
): (reason: Reason) => void {
  const byReason = boundBy((reason) => metrics.decisions.labels(rpc, reasonLabel(reason)));
  return (reason) => byReason(reason).inc();
}

/** The Verify cache's `onLookup`: hits and misses by cache, children bound on first use. */
export function cacheLookupCounter(
  metrics: GatehouseMetrics,
): (cache: VerifyCacheName, hit: boolean) => void {
  const children = new Map<VerifyCacheName, { hit: () => void; miss: () => void }>();
  return (cache, hit) => {
    let counters = children.get(cache);
    if (!counters) {
      const hits = metrics.cacheLookups.labels(cache, "hit");
      const misses = metrics.cacheLookups.labels(cache, "miss");
      counters = { hit: () => hits.inc(), miss: () => misses.inc() };
      children.set(cache, counters);
    }
    (hit ? counters.hit : counters.miss)();
  };
}

/** Counts the bus's events by kind (a finite union, never the id an event names). */
export function invalidationCounter(metrics: GatehouseMetrics): (event: InvalidationEvent) => void {
  const children = new Map<InvalidationEvent["kind"], { inc(): void }>();
  return (event) => {
    let child = children.get(event.kind);
    if (!child) {
      child = metrics.invalidations.labels(event.kind);
      children.set(event.kind, child);
    }
    child.inc();
  };
}
