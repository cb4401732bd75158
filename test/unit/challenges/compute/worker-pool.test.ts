import { afterEach, describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import {
  createWorkerPool,
  type WorkerPool,
} from "../../../../src/challenges/compute/worker-pool.js";
import { GatehouseError } from "../../../../src/errors/index.js";
import type { TestJob } from "./fixtures/test-worker.js";

const SCRIPT = new URL("./fixtures/test-worker.ts", import.meta.url);

const pools: WorkerPool<TestJob, string>[] = [];
function pool(size: number, maxQueue: number): WorkerPool<TestJob, string> {
  const created = createWorkerPool<TestJob, string>({ script: SCRIPT, size, maxQueue });
  pools.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function reasonOf(promise: Promise<unknown>): Promise<Reason> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof GatehouseError)) throw new Error(`expected a GatehouseError: ${error}`);
  return error.reason;
}

/** The worker thread id a reply came from. */
const thread = (reply: string) => reply.split("@")[1];

describe("createWorkerPool", () => {
  it("runs jobs on at most `size` threads, queueing the rest", async () => {
    const p = pool(2, 8);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => p.run({ op: "spin", ms: 30 })),
    );
    expect(new Set(replies.map(thread)).size).toBe(2);
    await expect(p.run({ op: "echo", value: "a" })).resolves.toMatch(/^a@\d+$/);
  });

  it("refuses with UNAVAILABLE, at once, when the queue is full", async () => {
    const p = pool(1, 2);
    const running = p.run({ op: "spin", ms: 300 });
    const queued = [p.run({ op: "echo", value: "1" }), p.run({ op: "echo", value: "2" })];
    const started = performance.now();
    expect(await reasonOf(p.run({ op: "echo", value: "3" }))).toBe(Reason.UNAVAILABLE);
    expect(performance.now() - started).toBeLessThan(100);
    // The accepted jobs are unaffected.
    await expect(running).resolves.toMatch(/^spun@/);
    await expect(Promise.all(queued)).resolves.toHaveLength(2);
    // Once drained, it accepts again.
    await expect(p.run({ op: "echo", value: "4" })).resolves.toMatch(/^4@/);
  });

  it("maps a failure reply to INTERNAL and keeps the worker", async () => {
    const p = pool(1, 1);
    const before = thread(await p.run({ op: "echo", value: "x" }));
    expect(await reasonOf(p.run({ op: "fail" }))).toBe(Reason.INTERNAL);
    expect(thread(await p.run({ op: "echo", value: "y" }))).toBe(before);
  });

  it("survives a worker crash: the job fails INTERNAL, queued jobs run on a replacement", async () => {
    const p = pool(1, 4);
    const before = thread(await p.run({ op: "echo", value: "x" }));
    const crashed = p.run({ op: "crash" });
    const queued = p.run({ op: "echo", value: "after" });
    expect(await reasonOf(crashed)).toBe(Reason.INTERNAL);
    const after = await queued;
    expect(after).toMatch(/^after@/);
    expect(thread(after)).not.toBe(before);
    await expect(p.run({ op: "echo", value: "again" })).resolves.toMatch(/^again@/);
  });

  it("close() terminates running work, rejects waiting jobs and refuses new ones", async () => {
    const p = pool(1, 2);
    await p.run({ op: "echo", value: "warm" }); // the thread is up before the clock starts
    const running = reasonOf(p.run({ op: "spin", ms: 10_000 }));
    const waiting = reasonOf(p.run({ op: "echo", value: "never" }));
    const started = performance.now();
    await p.close();
    // terminate() interrupted the 10 s job rather than waiting for it.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await running).toBe(Reason.UNAVAILABLE);
    expect(await waiting).toBe(Reason.UNAVAILABLE);
    expect(await reasonOf(p.run({ op: "echo", value: "late" }))).toBe(Reason.UNAVAILABLE);
  });
});
