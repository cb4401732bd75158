import cluster, { type Worker } from "node:cluster";
import { once } from "node:events";
import { withServerNodeFlags } from "./node-flags.js";

/**
 * Several processes of one service on one machine, with node:cluster: the server (`workers`
 * > 1) and the HTTP sidecar (`sidecar.workers` > 1). The primary process serves nothing
 * itself; it forks the workers, each of which starts the whole service on the same ports,
 * and the primary hands each new TLS connection to one of them in turn (cluster's
 * round-robin scheduling). The workers are replicas, as replicas on several machines are:
 * whatever must be shared lives in the Redis store (caches kept fresh by its invalidation
 * bus, single-use values spent atomically there). A client on one HTTP/2 connection
 * therefore reaches one worker: clients that want every core open a few.
 *
 * Protocol between the two (over cluster's IPC channel):
 *   worker → primary  { type: "gatehouse:listening", listening }   where the worker listens,
 *                     as plain JSON the service defines (the server's ports, the sidecar's URL)
 *   primary → worker  { type: "gatehouse:stop" }   drain (as on SIGTERM) and exit
 */

interface ListeningMessage {
  readonly type: "gatehouse:listening";
  readonly listening: unknown;
}

const STOP_MESSAGE = { type: "gatehouse:stop" } as const;

/** A worker that crashes is replaced, unless workers crash this often: then all stop. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 500;
/** Beyond the drain's own bound (shutdownGraceMs), how long a worker may take to exit. */
const EXIT_MARGIN_MS = 5_000;

export function isWorkerProcess(): boolean {
  return cluster.isWorker;
}

/**
 * Worker side: tells the primary where it listens. `listening` goes over IPC as JSON: pass
 * only the plain fields (never a whole service, whose store and audit writer must not be
 * serialized).
 */
export function announceListening(listening: object): void {
  const message: ListeningMessage = { type: "gatehouse:listening", listening };
  process.send?.(message);
}

/**
 * Worker side: `drain` runs when the primary says stop, or when the primary is gone (its IPC
 * channel closed): a worker never outlives its primary.
 */
export function onPrimaryStop(drain: () => void): void {
  process.on("message", (message: { type?: unknown }) => {
    if (message?.type === STOP_MESSAGE.type) drain();
  });
  process.on("disconnect", drain);
}

export interface SupervisorOptions<L> {
  readonly count: number;
  /** The drain bound each worker applies (config.shutdownGraceMs). */
  readonly graceMs: number;
  /** One line for an operator (stderr). */
  readonly report: (line: string) => void;
  /** How the reports name a worker: `worker` (the server), `sidecar worker`. */
  readonly name: string;
  /** What a worker announced (`announceListening`), read back from its IPC message. */
  readonly listening: (announced: unknown) => L;
  /** Added to each worker's environment: what this process decided for them all. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Supervisor<L> {
  /** What the first worker announced; every worker listens on the same ports. */
  readonly listening: L;
  /** The workers alive now. */
  workers(): readonly Worker[];
  /** Asks every worker to drain, waits for them (SIGKILL after the grace and a margin). */
  stop(): Promise<void>;
  /** Resolves when supervision gave up: workers kept crashing (they are stopped by then). */
  readonly failed: Promise<void>;
}

/**
 * Primary side: forks the first worker and waits until it listens (it creates what does not
 * exist yet: the dev PKI, the first signing key, the audit key), then the others, with the
 * server's node flags (src/app/node-flags.ts). Rejects when a worker exits before it listens
 * (the worker itself reports why); the others are stopped.
 */
export async function superviseWorkers<L>(options: SupervisorOptions<L>): Promise<Supervisor<L>> {
  cluster.setupPrimary({ execArgv: withServerNodeFlags(process.execArgv) });
  const { name, report } = options;
  const live = new Set<Worker>();
  let stopping = false;
  let listening: L | undefined;
  const restarts: number[] = [];
  let giveUp: () => void = () => {};
  const failed = new Promise<void>((resolve) => {
    giveUp = resolve;
  });

  /** Forks a worker; resolves once it listens, rejects if it exits first. */
  const start = (): Promise<L> => {
    const worker = cluster.fork(options.env);
    live.add(worker);
    let listened = false;
    return new Promise<L>((resolve, reject) => {
      worker.on("message", (message: Partial<ListeningMessage>) => {
        if (message?.type !== "gatehouse:listening") return;
        listened = true;
        report(`gatehouse: ${name} ${worker.process.pid} listening`);
        resolve(options.listening(message.listening));
      });
      worker.once("exit", (code, signal) => {
        live.delete(worker);
        if (!listened) {
          reject(new Error(`${name} ${worker.process.pid} exited before it listened`));
        }
        // Before every worker first listened, a failure fails the start (the caller stops all).
        if (!stopping && listening !== undefined) replace(worker, code, signal);
      });
    });
  };

  const replace = (worker: Worker, code: number | null, signal: string | null): void => {
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && (restarts[0] as number) < now - RESTART_WINDOW_MS) {
      restarts.shift();
    }
    const how = signal ?? `code ${code}`;
    if (restarts.length > MAX_RESTARTS) {
      report(
        `gatehouse: ${name} ${worker.process.pid} exited (${how}); ${restarts.length} exits ` +
          `within ${RESTART_WINDOW_MS / 1000} s, stopping`,
      );
      void stop().then(giveUp);
      return;
    }
    report(`gatehouse: ${name} ${worker.process.pid} exited (${how}); starting another`);
    setTimeout(() => {
      if (stopping) return;
      start().catch((error: unknown) => report(`gatehouse: ${String(error)}`));
    }, RESTART_DELAY_MS);
  };

  const stop = async (): Promise<void> => {
    stopping = true;
    const workers = [...live];
    const exits = workers.map((worker) => once(worker, "exit"));
    for (const worker of workers) if (worker.isConnected()) worker.send(STOP_MESSAGE);
    const timer = setTimeout(() => {
      for (const worker of workers) worker.process.kill("SIGKILL");
    }, options.graceMs + EXIT_MARGIN_MS);
    await Promise.all(exits);
    clearTimeout(timer);
  };

  try {
    const first = await start();
    await Promise.all(Array.from({ length: options.count - 1 }, () => start()));
    listening = first;
  } catch (error) {
    await stop();
    throw error;
  }
  return { listening, workers: () => [...live], stop, failed };
}
