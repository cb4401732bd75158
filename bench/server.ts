/**
 * The benchmarked server, run as a child process (`fork` with `--import tsx`) so it has an
 * event loop, and a core, of its own. Argument: the data dir, whose dev PKI the parent has
 * already created, and optionally a JSON `ServerOptions` (a Redis URL: the store is then Redis,
 * so several such processes are replicas of one Gatehouse; `workers`: this process supervises
 * that many server processes on the same ports, as `gatehouse serve --workers` does, with the
 * same code, src/app/workers.ts). Talks to the parent over IPC (bench/worker-group.ts):
 *   → { type: "ready", grpcPort, connectPort }
 *   ← { type: "usage", collect }  → { type: "usage", cpuMicros, elu }
 *   ← { type: "stop" }   → exits once stopped
 */
import cluster from "node:cluster";
import { startGatehouse } from "../src/app/gatehouse.js";
import { type Listening, serverListening } from "../src/app/listening.js";
import { createLogger } from "../src/observability/logger.js";
import { benchConfig } from "./config.js";
import { createPki } from "./enroll.js";
import { startLoginFloor } from "./login-floor.js";
import type { ServerMessage, ServerOptions } from "./protocol.js";
import { serveForBench, superviseForBench } from "./worker-group.js";

const dataDir = process.argv[2];
if (!dataDir || !process.send) {
  throw new Error("usage: fork bench/server.ts <dataDir> (needs an IPC channel)");
}
const options: ServerOptions = JSON.parse(process.argv[3] ?? "{}");
const workers = options.workers ?? 1;
// The floor needs no store: each of its processes serves its own logins (one connection each).
const config = benchConfig(
  dataDir,
  options.redisUrl,
  options.floor ? 1 : workers,
  options.proxyHmacSecret,
);
const ready = ({ grpcPort, connectPort }: Listening): ServerMessage => ({
  type: "ready",
  grpcPort,
  connectPort,
});

if (workers > 1 && cluster.isPrimary) {
  await superviseForBench(
    { count: workers, graceMs: config.shutdownGraceMs, name: "worker", listening: serverListening },
    ready,
  );
} else {
  // One Gatehouse in this process (alone, or as one of the workers); with `floor`, the login
  // floor instead (bench/login-floor.ts), on the same ports' scheme and the same IPC.
  const app = options.floor
    ? { ...(await startLoginFloor(await createPki(dataDir), options.floor)), connectPort: 0 }
    : await startGatehouse({ config, logger: createLogger("silent") });
  await serveForBench({ listening: serverListening(app), stop: () => app.stop() }, ready);
}
