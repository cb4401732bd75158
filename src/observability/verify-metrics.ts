import type { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { InvalidationEvent } from "../store/ports.js";
import type { LookupCounts, VerifyCacheName } from "../verify/cache.js";
import { boundBy } from "./bound.js";
import type { GatehouseMetrics } from "./metrics.js";
import { reasonLabel } from "./rpc-metrics.js";

/** Counts Verify's or Check's decisions by reason (`reasonLabel`): the services' hook. */
export function decisionCounter(
  metrics: GatehouseMetrics,
  rpc: "verify" | "check",
): (reason: Reason) => void {
  const byReason = boundBy((reason) =>
    metrics.tally("decisions", { rpc, reason: reasonLabel(reason) }),
  );
  return (reason) => byReason(reason).inc();
}

/**
 * The Verify caches' hits and misses (VerifyCache.lookupCounts: plain numbers the caches
 * keep), added to the counter when it is scraped: a look-up pays no metrics call at all.
 */
export function countCacheLookups(
  metrics: GatehouseMetrics,
  counts: () => Readonly<Record<VerifyCacheName, LookupCounts>>,
): void {
  const reported = new Map<string, LookupCounts>();
  metrics.beforeScrape("cacheLookups", () => {
    for (const [cache, now] of Object.entries(counts())) {
      const last = reported.get(cache) ?? { hits: 0, misses: 0 };
      if (now.hits > last.hits) {
        metrics.cacheLookups.inc({ cache, result: "hit" }, now.hits - last.hits);
      }
      if (now.misses > last.misses) {
        metrics.cacheLookups.inc({ cache, result: "miss" }, now.misses - last.misses);
      }
      reported.set(cache, now);
    }
  });
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
