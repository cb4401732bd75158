import type { Gatehouse } from "../app/gatehouse.js";
import { type Listening, serverListening } from "../app/listening.js";
import {
  announceListening,
  isWorkerProcess,
  onPrimaryStop,
  type Supervisor,
} from "../app/workers.js";
import type { GatehouseConfig } from "../config/index.js";
import { groupScraper, groupSources } from "../observability/cluster-metrics.js";
import { createMetricsRegistry } from "../observability/metrics.js";
import { createMetricsListener, type MetricsListener } from "../observability/metrics-listener.js";
import { exitWhen, onSignals, runPrimary, stopInOrder } from "./lifecycle.js";
import { hostPort, reportFailure } from "./output.js";

/**
 * Runs once Gatehouse listens; may return what to stop, drained, before Gatehouse is (`gatehouse
 * dev`'s sidecar: its requests in flight still need Gatehouse to answer them).
 */
type AfterStart = (listening: Listening) => Promise<StopFirst | undefined>;
type StopFirst = () => Promise<void>;

/**
 * Starts Gatehouse, announces where it listens (one machine-readable line per port, for
 * scripts and tests), runs `afterStart`, and stops gracefully on SIGTERM or SIGINT. With
 * `workers` > 1 this process supervises that many server processes (src/app/workers.ts), each
 * started with `workerEnv` added to its environment.
 */
export async function runServer(
  config: GatehouseConfig,
  afterStart?: AfterStart,
  workerEnv?: Readonly<Record<string, string>>,
): Promise<void> {
  if (config.workers > 1 && !isWorkerProcess()) {
    return runServerPrimary(config, afterStart, workerEnv);
  }
  let app: Gatehouse;
  try {
    // Loaded here: a `--workers` primary serves nothing, so it never loads the server.
    const { startGatehouse } = await import("../app/gatehouse.js");
    app = await startGatehouse({ config });
  } catch (error) {
    // A half-started server (one port already bound) would keep the process alive.
    process.exit(reportFailure(error));
  }
  let stopFirst: StopFirst | undefined;
  const drain = onSignals((signal) => {
    console.error(`gatehouse: ${signal} received; draining (at most ${config.shutdownGraceMs} ms)`);
    exitWhen(stopInOrder(stopFirst, () => app.stop()));
  });
  if (isWorkerProcess()) {
    onPrimaryStop(drain);
    announceListening(serverListening(app));
    return;
  }
  announce(config, app);
  if (app.metricsPort !== undefined) announceMetrics(config, app.metricsPort);
  stopFirst = await afterStart?.(app);
}

async function runServerPrimary(
  config: GatehouseConfig,
  afterStart: AfterStart | undefined,
  env: Readonly<Record<string, string>> | undefined,
): Promise<void> {
  let stopFirst: StopFirst | undefined;
  const supervisor = await runPrimary({
    count: config.workers,
    graceMs: config.shutdownGraceMs,
    name: "worker",
    listening: serverListening,
    stopFirst: async () => stopFirst?.(),
    ...(env && { env }),
  });
  announce(config, supervisor.listening);
  if (config.metrics.enabled) await serveGroupMetrics(config, supervisor);
  stopFirst = await afterStart?.(supervisor.listening);
}

/**
 * The primary alone listens on the metrics port and answers for the whole group: each scrape
 * and readiness probe asks every worker (src/observability/cluster-metrics.ts).
 */
async function serveGroupMetrics(
  config: GatehouseConfig,
  supervisor: Supervisor<Listening>,
): Promise<void> {
  const scrape = groupScraper({
    workers: supervisor.workers,
    expected: config.workers,
    own: createMetricsRegistry(),
  });
  let listener: MetricsListener;
  try {
    listener = await createMetricsListener({ listen: config.metrics, ...groupSources(scrape) });
  } catch (error) {
    await supervisor.stop();
    process.exit(reportFailure(error));
  }
  announceMetrics(config, listener.port);
}

function announceMetrics(config: GatehouseConfig, port: number): void {
  console.log(`gatehouse: metrics listening on http://${hostPort(config.metrics.host, port)}`);
}

function announce(config: GatehouseConfig, listening: Listening): void {
  console.log(`gatehouse: grpc listening on ${hostPort(config.grpc.host, listening.grpcPort)}`);
  console.log(
    `gatehouse: connect listening on ${hostPort(config.connect.host, listening.connectPort)}`,
  );
}
