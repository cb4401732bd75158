import cluster, { type Worker } from "node:cluster";
import { once } from "node:events";
import { withServerNodeFlags } from "./node-flags.js";

/**
 * Several server processes on one machine (`workers` > 1), with node:cluster: the primary
 * process serves nothing itself; it forks the workers, each of which starts a whole Gatehouse
 * on the same ports, and the primary hands each new TLS connection to one of them in turn
 * (cluster's round-robin scheduling). The workers are replicas sharing the Redis store, as
 * replicas on several machines are: caches are kept fresh by the store's invalidation bus,
 * single-use values are spent atomically in the store. A gRPC client on one HTTP/2
 * connection therefore reaches one worker: clients that want every core open a few.
 *
 * Protocol between the two (over cluster's IPC channel):
 *   worker → primary  { type: "gatehouse:listening", grpcPort, connectPort, approvalOrigin? }
 *   primary → worker  { type: "gatehouse:stop" }   drain (as on SIGTERM) and exit
 */

/** Where a worker listens; every worker listens on the same ports. */
export interface Listening {
  readonly grpcPort: number;
  readonly connectPort: number;
  readonly approvalOrigin: string | undefined;
}

interface ListeningMessage extends Listening {
  readonly type: "gatehouse:listening";
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
 * Worker side: tells the primary where it listens. Only the ports go over IPC: the caller
 * may pass the whole Gatehouse (its store and audit writer must not be serialized).
 */
export function announceListening({ grpcPort, connectPort, approvalOrigin }: Listening): void {
  const message: ListeningMessage = {
    type: "gatehouse:listening",
    grpcPort,
    connectPort,
    approvalOrigin,
  };
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

export interface SupervisorOptions {
  readonly count: number;
  /** The drain bound each worker applies (config.shutdownGraceMs). */
  readonly graceMs: number;
  /** One line for an operator (stderr). */
  readonly report: (line: string) => void;
}

export interface Supervisor {
  readonly listening: Listening;
  /** The workers alive now. */
  workers(): readonly Worker[];
  /** Asks every worker to drain, waits for them (SIGKILL after the grace and a margin). */
  stop(): Promise<void>;
  /** Resolves when supervision gave up: workers kept crashing (they are stopped by then). */
  readonly failed: Promise<void>;
}

/**
 * Primary side: forks the first worker and waits until it listens (it creates what does not
 * exist yet: the dev PKI, the first signing key, the audit key), then the others. Rejects when
 * a worker exits before it listens (the worker itself reports why); the others are stopped.
 */
export async function superviseWorkers(options: SupervisorOptions): Promise<Supervisor> {
  cluster.setupPrimary({ execArgv: withServerNodeFlags(process.execArgv) });
  const live = new Set<Worker>();
  let stopping = false;
  let listening: Listening | undefined;
  const restarts: number[] = [];
  let giveUp: () => void = () => {};
  const failed = new Promise<void>((resolve) => {
    giveUp = resolve;
  });

  /** Forks a worker; resolves once it listens, rejects if it exits first. */
  const start = (): Promise<Listening> => {
    const worker = cluster.fork();
    live.add(worker);
    let listened = false;
    return new Promise<Listening>((resolve, reject) => {
      worker.on("message", (message: Partial<ListeningMessage>) => {
        if (message?.type !== "gatehouse:listening") return;
        listened = true;
        options.report(`gatehouse: worker ${worker.process.pid} listening`);
        resolve(listeningOf(message));
      });
      worker.once("exit", (code, signal) => {
        live.delete(worker);
        if (!listened) {
          reject(new Error(`worker ${worker.process.pid} exited before it listened`));
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
      options.report(
        `gatehouse: worker ${worker.process.pid} exited (${how}); ${restarts.length} exits ` +
          `within ${RESTART_WINDOW_MS / 1000} s, stopping`,
      );
      void stop().then(giveUp);
      return;
    }
    options.report(`gatehouse: worker ${worker.process.pid} exited (${how}); starting another`);
    setTimeout(() => {
      if (stopping) return;
      start().catch((error: unknown) => options.report(`gatehouse: ${String(error)}`));
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

function listeningOf(message: Partial<ListeningMessage>): Listening {
  return {
    grpcPort: Number(message.grpcPort),
    connectPort: Number(message.connectPort),
    approvalOrigin: typeof message.approvalOrigin === "string" ? message.approvalOrigin : undefined,
  };
}
