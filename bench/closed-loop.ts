/**
 * The one closed loop behind every load generator in this process (grpc-js, Connect over
 * node:http2, async tasks such as a whole login): `concurrency` slots, each sending its next
 * request as soon as its previous one settled, until `durationMs` has passed; then the loop
 * waits for what is still in flight. Only correct answers count, and only their latencies are
 * kept. A transport is a `Send`.
 */
import { performance } from "node:perf_hooks";
import { Histogram } from "./histogram.js";
import type { LoadResult } from "./load.js";

/** The outcome of one request: undefined when correct, otherwise what was wrong with it. */
export type Settle = (problem: string | undefined) => void;

/**
 * Sends one request on `slot` and calls `settle` once it is answered (later calls are
 * ignored), never synchronously. May return a way to cancel the request, which must then
 * settle it (as an error).
 */
export type Send = (slot: number, settle: Settle) => (() => void) | undefined;

export interface LoopOptions {
  readonly concurrency: number;
  readonly durationMs: number;
  /** After the duration, how long requests in flight may take before they are cancelled. */
  readonly drainTimeoutMs?: number;
}

const DRAIN_TIMEOUT_MS = 5_000;

export function closedLoop(send: Send, options: LoopOptions): Promise<LoadResult> {
  const { concurrency, durationMs } = options;
  const latency = new Histogram();
  const errorKinds = new Map<string, number>();
  const cancels: ((() => void) | undefined)[] = new Array(concurrency);
  let sent = 0;
  let correct = 0;
  let inFlight = 0;
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const start = performance.now();
  const stopAt = start + durationMs;

  return new Promise((resolve) => {
    // Requests still unanswered long after the end are cancelled; they count as errors.
    const watchdog = setTimeout(
      () => {
        for (const cancel of cancels) cancel?.();
      },
      durationMs + (options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS),
    );

    const finish = (end: number) => {
      clearTimeout(watchdog);
      const cpu = process.cpuUsage(cpuBefore);
      resolve({
        sent,
        correct,
        errors: sent - correct,
        errorKinds,
        elapsedMs: end - start,
        latency,
        clientCpuMicros: cpu.user + cpu.system,
        clientElu: performance.eventLoopUtilization(eluBefore).utilization,
        clientCores: 1,
        generator: "node",
      });
    };

    const issue = (slot: number) => {
      const began = performance.now();
      let settled = false;
      sent += 1;
      inFlight += 1;
      cancels[slot] = send(slot, (problem) => {
        if (settled) return;
        settled = true;
        const now = performance.now();
        inFlight -= 1;
        cancels[slot] = undefined;
        if (problem === undefined) {
          correct += 1;
          latency.record(now - began);
        } else {
          errorKinds.set(problem, (errorKinds.get(problem) ?? 0) + 1);
        }
        if (now < stopAt) issue(slot);
        else if (inFlight === 0) finish(now);
      });
    };

    for (let slot = 0; slot < concurrency; slot++) issue(slot);
  });
}
