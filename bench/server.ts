/**
 * The benchmarked server, run as a child process (`fork` with `--import tsx`) so it has an
 * event loop, and a core, of its own. Argument: the data dir, whose dev PKI the parent has
 * already created, and optionally a JSON `ServerOptions` (a Redis URL: the store is then Redis,
 * so several such processes are replicas of one Gatehouse). Talks to the parent over IPC:
 *   → { type: "ready", grpcPort, connectPort }
 *   ← { type: "usage" }  → { type: "usage", cpuMicros, elu }   (cumulative, for deltas)
 *   ← { type: "stop" }   → exits once stopped
 */
import { performance } from "node:perf_hooks";
import { startGatehouse } from "../src/app/gatehouse.js";
import { createLogger } from "../src/observability/logger.js";
import { benchConfig } from "./config.js";
import { startIntervalProfiler } from "./profile.js";
import type { ServerMessage, ServerOptions } from "./protocol.js";

const dataDir = process.argv[2];
if (!dataDir || !process.send) {
  throw new Error("usage: fork bench/server.ts <dataDir> (needs an IPC channel)");
}
const send = (message: ServerMessage) => process.send?.(message);
const options: ServerOptions = JSON.parse(process.argv[3] ?? "{}");

const config = benchConfig(dataDir, options.redisUrl);
const app = await startGatehouse({ config, logger: createLogger("silent") });
const profileDir = process.env.BENCH_SERVER_PROFILE;
const profiler = profileDir ? await startIntervalProfiler(profileDir) : undefined;

process.on("message", (message: { type?: string }) => {
  if (message.type === "usage") {
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    send({ type: "usage", cpuMicros: cpu.user + cpu.system, elu: { ...elu } });
    void profiler?.cut();
  } else if (message.type === "stop") {
    void (profiler?.stop() ?? Promise.resolve()).then(() => app.stop()).then(() => process.exit(0));
  }
});
// The parent died without saying stop: do not linger.
process.on("disconnect", () => void app.stop().then(() => process.exit(0)));

send({ type: "ready", grpcPort: app.grpcPort, connectPort: app.connectPort });
