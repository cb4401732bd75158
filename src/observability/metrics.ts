import { Counter, collectDefaultMetrics, Registry } from "prom-client";
import { FastHistogram } from "./histogram.js";
import { METRICS, type MetricKey } from "./metric-names.js";

/** Seconds; from a Verify cache hit (tens of µs) to a slow login (seconds). */
const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds; an in-process map read up to a Redis command stuck behind a reconnect. */
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2];

/**
 * A registry with prom-client's default collectors: process CPU, memory and file
 * descriptors, and Node's event-loop lag (`nodejs_eventloop_lag_seconds`), heap and GC.
 * The sidecar builds its own with this and adds what it measures.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The label names METRICS declares for `K`. */
export type LabelOf<K extends MetricKey> = (typeof METRICS)[K]["labels"][number];

/** The server's event metrics (the state gauges are in gauges.ts), on one registry. */
export interface GatehouseMetrics {
  readonly registry: Registry;
  readonly rpcRequests: Counter<LabelOf<"rpcRequests">>;
  readonly rpcDuration: FastHistogram<LabelOf<"rpcDuration">>;
  readonly decisions: Counter<LabelOf<"decisions">>;
  readonly challenges: Counter<LabelOf<"challenges">>;
  readonly logins: Counter<LabelOf<"logins">>;
  readonly loginDuration: FastHistogram<LabelOf<"loginDuration">>;
  readonly storeDuration: FastHistogram<LabelOf<"storeDuration">>;
  readonly storeErrors: Counter<LabelOf<"storeErrors">>;
  readonly cacheLookups: Counter<LabelOf<"cacheLookups">>;
  readonly invalidations: Counter<LabelOf<"invalidations">>;
  /**
   * A counter child counted in a plain number on the hot path and added to the counter when
   * the registry is scraped: a call pays one increment, not prom-client's label hashing. The
   * series appears once it has counted something, as a bound child's does.
   */
  tally<K extends CounterKey>(key: K, labels: Partial<Record<LabelOf<K>, string>>): Tally;
  /** Runs `flush` whenever `key`'s counter is scraped, before it reports its values. */
  beforeScrape(key: CounterKey, flush: () => void): void;
}

/** A counter's hot-path increment (`GatehouseMetrics.tally`). */
export interface Tally {
  inc(): void;
}

/** The event metrics that are counters. */
export type CounterKey =
  | "rpcRequests"
  | "decisions"
  | "challenges"
  | "logins"
  | "storeErrors"
  | "cacheLookups"
  | "invalidations";

export function createGatehouseMetrics(registry = createMetricsRegistry()): GatehouseMetrics {
  const flushes = new Map<CounterKey, (() => void)[]>();
  const counter = <K extends CounterKey>(key: K) =>
    new Counter<LabelOf<K>>({
      ...spec(key),
      registers: [registry],
      collect: () => {
        for (const flush of flushes.get(key) ?? []) flush();
      },
    });
  const beforeScrape = (key: CounterKey, flush: () => void) => {
    flushes.set(key, [...(flushes.get(key) ?? []), flush]);
  };
  const counters = {
    rpcRequests: counter("rpcRequests"),
    decisions: counter("decisions"),
    challenges: counter("challenges"),
    logins: counter("logins"),
    storeErrors: counter("storeErrors"),
    cacheLookups: counter("cacheLookups"),
    invalidations: counter("invalidations"),
  };
  const histogram = <K extends MetricKey>(key: K, buckets: number[]) =>
    new FastHistogram<LabelOf<K>>({ ...spec(key), buckets, registers: [registry] });
  return {
    registry,
    ...counters,
    rpcDuration: histogram("rpcDuration", RPC_BUCKETS),
    loginDuration: histogram("loginDuration", RPC_BUCKETS),
    storeDuration: histogram("storeDuration", STORE_BUCKETS),
    beforeScrape,
    tally(key, labels) {
      const child = (counters[key] as Counter<string>).labels(labels);
      let counted = 0;
      beforeScrape(key, () => {
        if (counted === 0) return;
        child.inc(counted);
        counted = 0;
      });
      return {
        inc: () => {
          counted++;
        },
      };
    },
  };
}

/** prom-client's name, help and label names for one entry of METRICS. */
export function spec<K extends MetricKey>(key: K) {
  const { name, help, labels } = METRICS[key];
  return { name, help, labelNames: labels as readonly LabelOf<K>[] };
}
