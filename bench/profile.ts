/**
 * BENCH_SERVER_PROFILE=<dir>: each bench server profiles its own CPU (V8's sampling profiler,
 * through node:inspector) and writes one `.cpuprofile` per interval between two usage
 * requests from the parent, i.e. one per warm-up and one per measured run, numbered in order
 * (`<pid>-01.cpuprofile`, …). Open them in Chrome DevTools or any cpuprofile viewer.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

export interface IntervalProfiler {
  /** Writes the profile of the interval that just ended and starts the next one. */
  cut(): Promise<void>;
  stop(): Promise<void>;
}

export async function startIntervalProfiler(dir: string): Promise<IntervalProfiler> {
  await mkdir(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  let interval = 0;
  // Cuts and the final stop run one after another: a stop must not cut a write short.
  let last: Promise<void> = Promise.resolve();
  const serially = (step: () => Promise<void>) => {
    last = last.then(step);
    return last;
  };
  const write = async () => {
    const { profile } = await session.post("Profiler.stop");
    interval += 1;
    const name = `${process.pid}-${String(interval).padStart(2, "0")}.cpuprofile`;
    await writeFile(join(dir, name), JSON.stringify(profile));
  };
  return {
    cut: () =>
      serially(async () => {
        await write();
        await session.post("Profiler.start");
      }),
    stop: () =>
      serially(async () => {
        await write();
        session.disconnect();
      }),
  };
}
