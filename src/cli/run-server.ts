import { type Gatehouse, startGatehouse } from "../app/gatehouse.js";
import type { GatehouseConfig } from "../config/index.js";
import { EXIT_FAILURE, hostPort, reportFailure } from "./output.js";

/**
 * Starts Gatehouse, announces where it listens (one machine-readable line per port, for
 * scripts and tests), runs `afterStart`, and stops gracefully on SIGTERM or SIGINT.
 */
export async function runServer(
  config: GatehouseConfig,
  afterStart?: (app: Gatehouse) => Promise<void>,
): Promise<void> {
  let app: Gatehouse;
  try {
    app = await startGatehouse({ config });
  } catch (error) {
    // A half-started server (one port already bound) would keep the process alive.
    process.exit(reportFailure(error));
  }
  stopOnSignals(app, config.shutdownGraceMs);
  console.log(`gatehouse: grpc listening on ${hostPort(config.grpc.host, app.grpcPort)}`);
  console.log(`gatehouse: connect listening on ${hostPort(config.connect.host, app.connectPort)}`);
  await afterStart?.(app);
}

/**
 * The first signal drains (bounded by the shutdown grace) and exits 0; a second one exits
 * 1 at once, for an operator who will not wait. Exiting explicitly, rather than when the
 * event loop empties, keeps a stray handle from turning a shutdown into a hang.
 */
function stopOnSignals(app: Gatehouse, graceMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`gatehouse: ${signal} again; exiting without draining`);
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    console.error(`gatehouse: ${signal} received; draining (at most ${graceMs} ms)`);
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => process.exit(reportFailure(error)),
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
