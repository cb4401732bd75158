import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { SERVER_NODE_FLAGS } from "../src/app/node-flags.js";
import type { EventLoopUtilization, ServerMessage, ServerOptions } from "./protocol.js";

const SERVER_SCRIPT = fileURLToPath(new URL("./server.ts", import.meta.url));
/** Generous: with tsx, each worker compiles the sources on start, slow on a loaded host. */
const START_TIMEOUT_MS = 120_000;

export interface ServerUsage {
  readonly cpuMicros: number;
  readonly elu: EventLoopUtilization;
}

export interface ServerProcess {
  readonly pid: number;
  readonly grpcPort: number;
  readonly connectPort: number;
  /**
   * Cumulative CPU time and event-loop utilization. With `collectFirst` every server process
   * first runs a full garbage collection: a measured run then starts on a clean heap instead
   * of paying for the garbage the previous run left in the old generation.
   */
  usage(options?: { readonly collectFirst?: boolean }): Promise<ServerUsage>;
  stop(): Promise<void>;
}

/** Forks bench/server.ts (`node --import tsx`) on `dataDir` and waits until it serves. */
export async function spawnServer(
  dataDir: string,
  options: ServerOptions = {},
): Promise<ServerProcess> {
  const child = fork(SERVER_SCRIPT, [dataDir, JSON.stringify(options)], {
    // Workers inherit these (cluster forks with the primary's execArgv).
    execArgv: ["--import", "tsx", "--expose-gc", ...serverNodeFlags()],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = once(child, "exit").then(([code, signal]) => {
    throw new Error(`bench server exited early (code ${code}, signal ${signal})`);
  });
  exited.catch(() => {}); // observed through the races below
  const ready = await Promise.race([
    next(child, "ready"),
    exited,
    timeout(START_TIMEOUT_MS, "bench server did not start"),
  ]);
  if (ready.type !== "ready" || child.pid === undefined) throw new Error("bench server failed");
  return {
    pid: child.pid,
    grpcPort: ready.grpcPort,
    connectPort: ready.connectPort,
    async usage(options = {}) {
      child.send({ type: "usage", collect: options.collectFirst === true });
      const message = await Promise.race([next(child, "usage"), exited]);
      if (message.type !== "usage") throw new Error("unexpected message from bench server");
      return { cpuMicros: message.cpuMicros, elu: message.elu };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, "exit");
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * BENCH_SERVER_NODE_FLAGS: node/V8 flags for the server processes (tuning experiments), the
 * bench's and the footprint's compiled one. Default: the flags `npm start` runs the server
 * with (src/app/node-flags.ts); to measure without them, override them
 * (`--max-semi-space-size=16`, V8's default on 64-bit hosts).
 */
export function serverNodeFlags(): string[] {
  const flags = process.env.BENCH_SERVER_NODE_FLAGS;
  return flags === undefined ? [...SERVER_NODE_FLAGS] : flags.split(/\s+/).filter(Boolean);
}

function next(child: ChildProcess, type: ServerMessage["type"]): Promise<ServerMessage> {
  return new Promise((resolve) => {
    const onMessage = (message: ServerMessage) => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      resolve(message);
    };
    child.on("message", onMessage);
  });
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}
