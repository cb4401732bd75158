import type { Audit } from "../audit/writer.js";
import { type Clock, systemClock } from "../clock.js";
import type { GatehouseConfig } from "../config/index.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { createGatehouseMetrics } from "../observability/metrics.js";
import { createStore } from "../store/index.js";
import type { Store } from "../store/ports.js";
import { type Composed, composeGatehouse } from "./compose.js";
import { type Serving, serve } from "./serve.js";
import { startupTimeline } from "./startup.js";
import { loadTlsMaterial } from "./tls.js";

export interface StartOptions {
  readonly config: GatehouseConfig;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** An already-open store (tests); otherwise the configured one is opened and owned. */
  readonly store?: Store;
}

export interface Gatehouse extends Serving {
  readonly store: Store;
  /** The audit writer (tests flush it before reading the log). */
  readonly audit: Audit;
  /** The composed services, for calls in memory (src/server/in-memory.ts). */
  readonly composed: Composed;
}

/** Opens the store, composes Gatehouse (compose.ts) and serves it (serve.ts). */
export async function startGatehouse(options: StartOptions): Promise<Gatehouse> {
  const { config } = options;
  const timeline = startupTimeline();
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.log.level);
  const tls = await loadTlsMaterial(config);
  timeline.mark("tls");
  const opened = options.store ?? (await openStore(config, clock, logger));
  timeline.mark("store");
  const closeOwned = async () => {
    if (!options.store) await opened.close();
  };
  const metrics = config.metrics.enabled ? createGatehouseMetrics() : undefined;
  let composed: Composed;
  let serving: Serving;
  try {
    composed = await composeGatehouse({
      config,
      store: opened,
      clock,
      logger,
      tls,
      ...(metrics && { metrics }),
    });
    timeline.mark("compose");
    serving = await serve({ config, composed, tls, clock, logger, ...(metrics && { metrics }) });
    timeline.mark("listen");
  } catch (error) {
    await closeOwned();
    throw error;
  }
  logger.info(
    {
      grpcPort: serving.grpcPort,
      connectPort: serving.connectPort,
      metricsPort: serving.metricsPort,
      store: config.store.kind,
      role: config.role,
      startup: timeline.phases(),
    },
    "gatehouse serving",
  );
  let stopping: Promise<void> | undefined;
  return {
    ...serving,
    store: opened,
    audit: composed.audit,
    composed,
    stop: () => {
      stopping ??= serving.stop().then(async () => {
        await closeOwned();
        logger.info("gatehouse stopped");
      });
      return stopping;
    },
  };
}

function openStore(config: GatehouseConfig, clock: Clock, logger: Logger): Promise<Store> {
  return createStore(
    config.store.kind === "redis"
      ? { ...config.store, clock, onError: (err) => logger.warn({ err }, "redis error") }
      : { kind: "embedded", dataDir: config.dataDir, clock, logger },
  );
}
