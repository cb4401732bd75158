import type { Worker } from "node:cluster";
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from "prom-client";
import type { MetricsSource } from "./metrics-listener.js";
import type { ReadinessCheck, ReadinessReport } from "./readiness.js";

/**
 * Metrics and readiness of a whole `--workers N` process group, served by the primary (the
 * only process on the metrics port): on each scrape the primary asks every worker, over
 * cluster's IPC channel, for its registry as JSON and its readiness, and adds them up with
 * prom-client's aggregation (counters and histograms summed; a gauge by the `aggregator` it
 * declares). Its own process metrics join the sum, so `process_resident_memory_bytes` is the
 * group's.
 *
 *   primary → worker  { type: "gatehouse:scrape", id }
 *   worker → primary  { type: "gatehouse:scraped", id, metrics, readiness }
 */

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

interface ScrapeRequest {
  readonly type: "gatehouse:scrape";
  readonly id: number;
}

interface ScrapeReply {
  readonly type: "gatehouse:scraped";
  readonly id: number;
  readonly metrics: MetricsJson;
  readonly readiness: ReadinessReport;
}

/** A worker that does not answer within this is counted as not ready (and its metrics missing). */
const SCRAPE_TIMEOUT_MS = 900;

/**
 * Worker side: answers the primary's scrapes with this worker's registry and readiness.
 * Returns the function that stops answering.
 */
export function answerScrapes(registry: Registry, readiness: ReadinessCheck): () => void {
  const onMessage = (message: Partial<ScrapeRequest>): void => {
    if (message?.type !== "gatehouse:scrape" || typeof message.id !== "number") return;
    const id = message.id;
    Promise.all([registry.getMetricsAsJSON(), readiness()]).then(
      ([metrics, report]) => {
        const reply: ScrapeReply = { type: "gatehouse:scraped", id, metrics, readiness: report };
        process.send?.(reply);
      },
      () => {}, // no reply: the primary counts this worker as not ready
    );
  };
  process.on("message", onMessage);
  return () => void process.off("message", onMessage);
}

export interface GroupScrape {
  /** The group's metrics in Prometheus' text format. */
  readonly text: string;
  readonly readiness: ReadinessReport;
}

export interface GroupScraperOptions {
  /** The workers alive now. */
  readonly workers: () => readonly Worker[];
  /** How many workers the group should have: fewer answering means not ready. */
  readonly expected: number;
  /** The primary's own registry (its process metrics). */
  readonly own: Registry;
  readonly timeoutMs?: number;
}

/** Primary side: one scrape of every worker, aggregated. */
export function groupScraper(options: GroupScraperOptions): () => Promise<GroupScrape> {
  let nextId = 0;
  const timeoutMs = options.timeoutMs ?? SCRAPE_TIMEOUT_MS;
  return async () => {
    const id = nextId++;
    const replies = await Promise.all(
      options.workers().map((worker) => askWorker(worker, id, timeoutMs)),
    );
    const answered = replies.filter((reply): reply is ScrapeReply => reply !== undefined);
    const metrics = [await options.own.getMetricsAsJSON(), ...answered.map((r) => r.metrics)];
    const text = await AggregatorRegistry.aggregate(metrics).metrics();
    return { text, readiness: groupReadiness(answered, options.expected) };
  };
}

function askWorker(
  worker: Worker,
  id: number,
  timeoutMs: number,
): Promise<ScrapeReply | undefined> {
  if (!worker.isConnected()) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const done = (reply: ScrapeReply | undefined): void => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      resolve(reply);
    };
    const onMessage = (message: Partial<ScrapeReply>): void => {
      if (message?.type === "gatehouse:scraped" && message.id === id) done(message as ScrapeReply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    worker.on("message", onMessage);
    const request: ScrapeRequest = { type: "gatehouse:scrape", id };
    worker.send(request);
  });
}

/**
 * Ready when every expected worker answered and each is ready; each check passes only when
 * it passes on every worker, and `workers` names a missing or silent one.
 */
export function groupReadiness(
  replies: readonly Pick<ScrapeReply, "readiness">[],
  expected: number,
): ReadinessReport {
  const checks: Record<string, "ok" | "failed"> = {
    workers: replies.length >= expected ? "ok" : "failed",
  };
  for (const { readiness } of replies) {
    for (const [name, result] of Object.entries(readiness.checks)) {
      if (checks[name] !== "failed") checks[name] = result;
    }
  }
  return { ready: Object.values(checks).every((result) => result === "ok"), checks };
}

/** `/metrics` and `/readyz` of the primary, from one scraper. */
export function groupSources(scrape: () => Promise<GroupScrape>): {
  registry: MetricsSource;
  readiness: ReadinessCheck;
} {
  return {
    registry: {
      contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE,
      metrics: async () => (await scrape()).text,
    },
    readiness: async () => (await scrape()).readiness,
  };
}
