/**
 * The benchmarked server, run as a child process (`fork` with `--import tsx`) so it has an
 * event loop, and a core, of its own. Argument: the data dir, whose dev PKI the parent has
 * already created, and optionally a JSON `ServerOptions` (a Redis URL: the store is then Redis,
 * so several such processes are replicas of one Gatehouse; `workers`: this process supervises
 * that many server processes on the same ports, as `gatehouse serve --workers` does, with the
 * same code, src/app/workers.ts). Talks to the parent over IPC:
 *   → { type: "ready", grpcPort, connectPort }
 *   ← { type: "usage", collect }  → { type: "usage", cpuMicros, elu }   (cumulative, for
 *                          deltas; with workers, summed over them and this process; `collect`:
 *                          a full GC first, in every process, when node runs with --expose-gc)
 *   ← { type: "stop" }   → exits once stopped
 */
import cluster, { type Worker } from "node:cluster";
import { startGatehouse } from "../src/app/gatehouse.js";
import { serverListening } from "../src/app/listening.js";
import { announceListening, onPrimaryStop, superviseWorkers } from "../src/app/workers.js";
import { createLogger } from "../src/observability/logger.js";
import { benchConfig } from "./config.js";
import { createPki } from "./enroll.js";
import { startLoginFloor } from "./login-floor.js";
import { startIntervalProfiler } from "./profile.js";
import {
  type EventLoopUtilization,
  processUsage,
  type ServerMessage,
  type ServerOptions,
} from "./protocol.js";

type UsageMessage = Extract<ServerMessage, { type: "usage" }>;
/** What the parent (or, in a worker, the primary) asks. */
type UsageRequest = { readonly type?: string; readonly collect?: boolean };

const dataDir = process.argv[2];
if (!dataDir || !process.send) {
  throw new Error("usage: fork bench/server.ts <dataDir> (needs an IPC channel)");
}
const send = (message: ServerMessage) => process.send?.(message);
const options: ServerOptions = JSON.parse(process.argv[3] ?? "{}");
const workers = options.workers ?? 1;
// The floor needs no store: each of its processes serves its own logins (one connection each).
const config = benchConfig(
  dataDir,
  options.redisUrl,
  options.floor ? 1 : workers,
  options.proxyHmacSecret,
);
/** The data dir, typed as checked above (a narrowing that functions below do not see). */
const pkiDir: string = dataDir;

if (workers > 1 && cluster.isPrimary) await supervise();
else await serve();

/**
 * One Gatehouse in this process (alone, or as one of the workers); with `floor`, the login
 * floor instead (bench/login-floor.ts), on the same ports' scheme and the same IPC.
 */
async function serve(): Promise<void> {
  const app = options.floor
    ? {
        ...(await startLoginFloor(await createPki(pkiDir), options.floor)),
        connectPort: 0,
        approvalOrigin: undefined,
      }
    : await startGatehouse({ config, logger: createLogger("silent") });
  const profileDir = process.env.BENCH_SERVER_PROFILE;
  const profiler = profileDir ? await startIntervalProfiler(profileDir) : undefined;
  const stop = () =>
    void (profiler?.stop() ?? Promise.resolve()).then(() => app.stop()).then(() => process.exit(0));
  process.on("message", (message: UsageRequest) => {
    if (message.type === "usage") {
      if (message.collect) globalThis.gc?.();
      send(processUsage());
      void profiler?.cut();
    } else if (message.type === "stop") stop();
  });
  if (cluster.isWorker) {
    onPrimaryStop(stop);
    announceListening(serverListening(app));
    return;
  }
  // The parent died without saying stop: do not linger.
  process.on("disconnect", stop);
  send({ type: "ready", grpcPort: app.grpcPort, connectPort: app.connectPort });
}

/** The primary of `config.workers` workers: answers the parent for all of them. */
async function supervise(): Promise<void> {
  const supervisor = await superviseWorkers({
    count: workers,
    graceMs: config.shutdownGraceMs,
    report: () => {},
    name: "worker",
    listening: serverListening,
  });
  const stop = () => void supervisor.stop().then(() => process.exit(0));
  void supervisor.failed.then(() => process.exit(1));
  process.on("message", (message: UsageRequest) => {
    if (message.type === "usage") {
      const ask = (worker: Worker) => usageOf(worker, message.collect === true);
      void Promise.all(supervisor.workers().map(ask)).then((usages) =>
        send(sumUsage(processUsage(), usages)),
      );
    } else if (message.type === "stop") stop();
  });
  process.on("disconnect", stop);
  const { grpcPort, connectPort } = supervisor.listening;
  send({ type: "ready", grpcPort, connectPort });
}

function usageOf(worker: Worker, collect: boolean): Promise<UsageMessage> {
  return new Promise((resolve) => {
    const onMessage = (message: Partial<UsageMessage>) => {
      if (message?.type !== "usage") return;
      worker.off("message", onMessage);
      resolve(message as UsageMessage);
    };
    worker.on("message", onMessage);
    worker.send({ type: "usage", collect });
  });
}

/**
 * CPU adds up, the primary's included; event-loop utilization is the share of the workers'
 * loop time spent active (the primary's loop, idle but for new connections, is left out).
 */
function sumUsage(primary: UsageMessage, workers: readonly UsageMessage[]): UsageMessage {
  const total = (pick: (usage: UsageMessage) => number) =>
    workers.reduce((sum, usage) => sum + pick(usage), 0);
  const idle = total((u) => u.elu.idle);
  const active = total((u) => u.elu.active);
  const elu: EventLoopUtilization = { idle, active, utilization: active / (idle + active || 1) };
  return { type: "usage", cpuMicros: primary.cpuMicros + total((u) => u.cpuMicros), elu };
}
