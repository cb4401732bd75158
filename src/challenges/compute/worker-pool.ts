import type { Worker } from "node:worker_threads";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../errors/index.js";
import { startWorker } from "./start-worker.js";

/**
 * What a pool worker posts back for each message it receives. `error` is logged server-side
 * only; workers must not put inputs (seeds) or results in it.
 */
export type WorkerReply<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

export interface WorkerPoolOptions {
  /** The worker entry module (see siblingModule); it answers every message with a WorkerReply. */
  readonly script: URL;
  /** Worker threads at most; each runs one job at a time. */
  readonly size: number;
  /** Jobs that may wait for a free worker; beyond that `run` refuses (fails closed). */
  readonly maxQueue: number;
}

/** CPU-bound jobs off the event loop, on a fixed number of threads with a bounded queue. */
export interface WorkerPool<In, Out> {
  /** Rejects with UNAVAILABLE when the queue is full or the pool closed, INTERNAL on a fault. */
  run(input: In): Promise<Out>;
  /** Refuses new jobs, rejects waiting and running ones, terminates every worker. */
  close(): Promise<void>;
}

interface Job<In, Out> {
  readonly input: In;
  resolve(value: Out): void;
  reject(error: GatehouseError): void;
}

const overloaded = () =>
  new GatehouseError(Reason.UNAVAILABLE, {
    description: "compute capacity exhausted; retry later",
  });
const closing = () => new GatehouseError(Reason.UNAVAILABLE, { description: "shutting down" });
const fault = (cause: unknown) => new GatehouseError(Reason.INTERNAL, { cause });

/**
 * Workers start lazily (a deployment that never sees a compute challenge runs no threads)
 * and are replaced lazily after a crash. An idle worker is unref'd so it never keeps the
 * process alive; a busy one is ref'd so a pending job is not abandoned at exit.
 */
export function createWorkerPool<In, Out>(options: WorkerPoolOptions): WorkerPool<In, Out> {
  const busy = new Map<Worker, Job<In, Out>>();
  const idle: Worker[] = [];
  const queue: Job<In, Out>[] = [];
  let closed = false;

  const dispatch = (worker: Worker, job: Job<In, Out>) => {
    busy.set(worker, job);
    worker.ref();
    worker.postMessage(job.input);
  };

  const release = (worker: Worker) => {
    const next = queue.shift();
    if (next) return dispatch(worker, next);
    worker.unref();
    idle.push(worker);
  };

  const spawn = (): Worker => {
    const worker = startWorker(options.script);
    let crash: unknown;
    worker.on("message", (reply: WorkerReply<Out>) => {
      const job = busy.get(worker);
      busy.delete(worker);
      if (reply.ok) job?.resolve(reply.value);
      else job?.reject(fault(new Error(reply.error)));
      release(worker);
    });
    // An uncaught exception in the worker: 'exit' follows, which settles the job.
    worker.on("error", (error) => {
      crash = error;
    });
    worker.on("exit", (code) => {
      const job = busy.get(worker);
      busy.delete(worker);
      const at = idle.indexOf(worker);
      if (at >= 0) idle.splice(at, 1);
      job?.reject(closed ? closing() : fault(crash ?? new Error(`worker exited (${code})`)));
      // Its replacement takes over the queue.
      const next = closed ? undefined : queue.shift();
      if (next) dispatch(spawn(), next);
    });
    return worker;
  };

  const live = () => busy.size + idle.length;

  return {
    run(input) {
      return new Promise<Out>((resolve, reject) => {
        if (closed) return reject(closing());
        const job = { input, resolve, reject };
        const worker = idle.pop() ?? (live() < options.size ? spawn() : undefined);
        if (worker) dispatch(worker, job);
        else if (queue.length < options.maxQueue) queue.push(job);
        else reject(overloaded());
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(closing());
      await Promise.all([...busy.keys(), ...idle.splice(0)].map((worker) => worker.terminate()));
    },
  };
}
