import { Counter, Gauge, type Registry } from "prom-client";
import type { Audit } from "../audit/writer.js";
import type { Clock } from "../clock.js";
import type { KeyRing, KeyStatus } from "../crypto/key-ring.js";
import { spec } from "./metrics.js";
import type { ReadinessCheck } from "./readiness.js";

export interface StateSources {
  readonly clock: Clock;
  readonly keys: Pick<KeyRing, "schedule">;
  /** 0: scheduled rotation is off (then no next-rotation value is exported). */
  readonly rotationIntervalMs: number;
  readonly audit: Pick<Audit, "queued" | "failed">;
  readonly readiness: ReadinessCheck;
}

/**
 * State read when Prometheus scrapes, not on any request path: the signing key's age and
 * the time to the next rotation (from the key ring's schedule, read only), the audit
 * queue's depth and drops, and readiness as a 0/1 gauge for alerting. With `--workers` the
 * primary adds the workers' values up (cluster-metrics.ts): each gauge names how (`aggregator`;
 * the default is the sum).
 */
export function registerStateMetrics(registry: Registry, sources: StateSources): void {
  const registers = [registry];
  new Gauge({
    ...spec("signingKeyAge"),
    registers,
    aggregator: "max",
    async collect() {
      const signing = await signingKey(sources);
      if (signing) this.set((sources.clock.now() - signing.activateAt) / 1000);
      else this.reset();
    },
  });
  new Gauge({
    ...spec("signingKeyNextRotation"),
    registers,
    aggregator: "min",
    async collect() {
      const next = await nextRotationAt(sources);
      if (next === undefined) this.reset();
      else this.set((next - sources.clock.now()) / 1000);
    },
  });
  new Gauge({
    ...spec("auditQueueDepth"),
    registers,
    collect() {
      this.set(sources.audit.queued);
    },
  });
  let reportedFailures = 0;
  new Counter({
    ...spec("auditWriteFailures"),
    registers,
    collect() {
      const failed = sources.audit.failed;
      if (failed > reportedFailures) this.inc(failed - reportedFailures);
      reportedFailures = failed;
    },
  });
  new Gauge({
    ...spec("ready"),
    registers,
    aggregator: "min",
    async collect() {
      this.set((await sources.readiness()).ready ? 1 : 0);
    },
  });
}

async function schedule(sources: StateSources): Promise<readonly KeyStatus[]> {
  try {
    return await sources.keys.schedule();
  } catch {
    return []; // the store is down: no value, rather than a failed scrape
  }
}

async function signingKey(sources: StateSources): Promise<KeyStatus | undefined> {
  return (await schedule(sources)).find((key) => key.state === "signing");
}

/**
 * When the next key takes over: the earliest pending key's start, else when the signing
 * key's interval runs out (past, when the successor is overdue).
 */
async function nextRotationAt(sources: StateSources): Promise<number | undefined> {
  const keys = await schedule(sources);
  const pending = keys.filter((key) => key.state === "pending").map((key) => key.activateAt);
  if (pending.length > 0) return Math.min(...pending);
  const signing = keys.find((key) => key.state === "signing");
  if (!signing || sources.rotationIntervalMs <= 0) return undefined;
  return signing.activateAt + sources.rotationIntervalMs;
}
