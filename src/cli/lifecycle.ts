import { type Supervisor, type SupervisorOptions, superviseWorkers } from "../app/workers.js";
import { EXIT_FAILURE, reportFailure } from "./output.js";

/**
 * How the long-running commands (`serve`, `dev`, `sidecar`) end: on signals, and as the
 * primary of worker processes (src/app/workers.ts).
 */

/**
 * The first SIGTERM or SIGINT runs `drain` (which exits when done); a second one exits 1 at
 * once, for an operator who will not wait, after `abandon`. Exiting explicitly, rather than
 * when the event loop empties, keeps a stray handle from turning a shutdown into a hang.
 * Returns the drain as a function of its own, run at most once whoever asks first.
 */
export function onSignals(drain: (reason: string) => void, abandon?: () => void): () => void {
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

/** Exits 0 once `stopped` resolves, or reports why it failed and exits 1. */
export function exitWhen(stopped: Promise<void>): void {
  stopped.then(
    () => process.exit(0),
    (error: unknown) => process.exit(reportFailure(error)),
  );
}

/**
 * Stops `first` (a front whose requests in flight need what `then` stops), then `then`, even
 * when `first` failed; rejects with the first failure.
 */
export async function stopInOrder(
  first: (() => Promise<void>) | undefined,
  then: () => Promise<void>,
): Promise<void> {
  try {
    await first?.();
  } finally {
    await then();
  }
}

/**
 * The primary of `count` workers (`serve --workers`, `sidecar --workers`), reporting on
 * stderr: exits 1 when they do not all start, or keep dying; on SIGTERM or SIGINT asks every
 * worker to drain and exits 0 once all have exited (a second signal kills them).
 */
export async function runPrimary<L>(
  options: Omit<SupervisorOptions<L>, "report"> & {
    /** Drained before the workers are asked to (what this process serves beside them). */
    readonly stopFirst?: () => Promise<void>;
  },
): Promise<Supervisor<L>> {
  let supervisor: Supervisor<L>;
  try {
    supervisor = await superviseWorkers({ ...options, report: (line) => console.error(line) });
  } catch (error) {
    process.exit(reportFailure(error));
  }
  onSignals(
    (signal) => {
      console.error(`gatehouse: ${signal} received; draining ${options.count} ${options.name}s`);
      exitWhen(stopInOrder(options.stopFirst, () => supervisor.stop()));
    },
    () => {
      for (const worker of supervisor.workers()) worker.process.kill("SIGKILL");
    },
  );
  void supervisor.failed.then(() => process.exit(EXIT_FAILURE));
  return supervisor;
}
