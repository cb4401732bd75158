import type { Gatehouse } from "../app/gatehouse.js";
import {
  announceListening,
  isWorkerProcess,
  type Listening,
  onPrimaryStop,
  type Supervisor,
  superviseWorkers,
} from "../app/workers.js";
import type { GatehouseConfig } from "../config/index.js";
import { groupScraper, groupSources } from "../observability/cluster-metrics.js";
import { createMetricsRegistry } from "../observability/metrics.js";
import { createMetricsListener, type MetricsListener } from "../observability/metrics-listener.js";
import { EXIT_FAILURE, hostPort, reportFailure } from "./output.js";

type AfterStart = (listening: Listening) => Promise<void>;

/**
 * Starts Gatehouse, announces where it listens (one machine-readable line per port, for
 * scripts and tests), runs `afterStart`, and stops gracefully on SIGTERM or SIGINT. With
 * `workers` > 1 this process supervises that many server processes (src/app/workers.ts).
 */
export async function runServer(config: GatehouseConfig, afterStart?: AfterStart): Promise<void> {
  if (config.workers > 1 && !isWorkerProcess()) return runPrimary(config, afterStart);
  let app: Gatehouse;
  try {
    // Loaded here: a `--workers` primary serves nothing, so it never loads the server.
    const { startGatehouse } = await import("../app/gatehouse.js");
    app = await startGatehouse({ config });
  } catch (error) {
    // A half-started server (one port already bound) would keep the process alive.
    process.exit(reportFailure(error));
  }
  const drain = onSignals((signal) => {
    console.error(`gatehouse: ${signal} received; draining (at most ${config.shutdownGraceMs} ms)`);
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => process.exit(reportFailure(error)),
    );
  });
  if (isWorkerProcess()) {
    onPrimaryStop(drain);
    announceListening(app);
    return;
  }
  announce(config, app);
  if (app.metricsPort !== undefined) announceMetrics(config, app.metricsPort);
  await afterStart?.(app);
}

async function runPrimary(config: GatehouseConfig, afterStart?: AfterStart): Promise<void> {
  let supervisor: Supervisor;
  try {
    supervisor = await superviseWorkers({
      count: config.workers,
      graceMs: config.shutdownGraceMs,
      report: (line) => console.error(line),
    });
  } catch (error) {
    process.exit(reportFailure(error));
  }
  onSignals(
    (signal) => {
      console.error(`gatehouse: ${signal} received; draining ${config.workers} workers`);
      supervisor.stop().then(() => process.exit(0));
    },
    () => {
      for (const worker of supervisor.workers()) worker.process.kill("SIGKILL");
    },
  );
  void supervisor.failed.then(() => process.exit(EXIT_FAILURE));
  announce(config, supervisor.listening);
  if (config.metrics.enabled) await serveGroupMetrics(config, supervisor);
  await afterStart?.(supervisor.listening);
}

/**
 * The primary alone listens on the metrics port and answers for the whole group: each scrape
 * and readiness probe asks every worker (src/observability/cluster-metrics.ts).
 */
async function serveGroupMetrics(config: GatehouseConfig, supervisor: Supervisor): Promise<void> {
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

/**
 * The first SIGTERM or SIGINT runs `drain` (which exits when done); a second one exits 1 at
 * once, for an operator who will not wait, after `abandon`. Exiting explicitly, rather than
 * when the event loop empties, keeps a stray handle from turning a shutdown into a hang.
 * Returns the drain as a function of its own, run at most once whoever asks first.
 */
function onSignals(drain: (reason: string) => void, abandon?: () => void): () => void {
  let stopping = false;
  const once = (reason: string): boolean => {
    if (stopping) return false;
    stopping = true;
    drain(reason);
    return true;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (once(signal)) return;
    console.error(`gatehouse: ${signal} again; exiting without draining`);
    abandon?.();
    process.exit(EXIT_FAILURE);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return () => void once("stop");
}
