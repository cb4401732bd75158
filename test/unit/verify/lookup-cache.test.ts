import { describe, expect, it } from "vitest";
import { createManualClock } from "../../../src/clock.js";
import { LookupCache } from "../../../src/verify/lookup-cache.js";

const TTL_MS = 2_000;

/** A store look-up the test answers by hand, counting calls. */
function manualLoader() {
  const pending: { resolve: (value: string) => void; reject: (error: Error) => void }[] = [];
  let calls = 0;
  return {
    load: () => {
      calls += 1;
      return new Promise<string>((resolve, reject) => {
        pending.push({ resolve, reject });
      });
    },
    answer: (value: string) => pending.shift()?.resolve(value),
    fail: () => pending.shift()?.reject(new Error("store unavailable")),
    get calls() {
      return calls;
    },
  };
}

function setUp() {
  const clock = createManualClock(1_000_000);
  let epoch = 0;
  const cache = new LookupCache<string>({
    clock,
    ttlMs: TTL_MS,
    maxEntries: 100,
    epoch: () => epoch,
  });
  return { clock, cache, invalidate: () => epoch++ };
}

describe("LookupCache", () => {
  it("shares one load between concurrent misses (single flight)", async () => {
    const { cache } = setUp();
    const store = manualLoader();
    const first = cache.get("k", store.load);
    const second = cache.get("k", store.load);
    expect(store.calls).toBe(1);
    store.answer("v1");
    await expect(Promise.all([first, second])).resolves.toEqual(["v1", "v1"]);
  });

  it("answers at once past half the TTL and refreshes once in the background", async () => {
    const { cache, clock } = setUp();
    const store = manualLoader();
    const loaded = cache.get("k", store.load);
    store.answer("v1");
    await loaded;
    clock.advance(TTL_MS / 2);
    // The store is slow now: every call still gets the cached answer without waiting.
    const answers = await Promise.all([1, 2, 3].map(() => cache.get("k", store.load)));
    expect(answers).toEqual(["v1", "v1", "v1"]);
    expect(store.calls).toBe(2);
    store.answer("v2");
    await new Promise((resolve) => setImmediate(resolve));
    await expect(cache.get("k", store.load)).resolves.toBe("v2");
    expect(store.calls).toBe(2);
  });

  it("never answers past the TTL, even when the refresh failed", async () => {
    const { cache, clock } = setUp();
    const store = manualLoader();
    const loaded = cache.get("k", store.load);
    store.answer("v1");
    await loaded;
    clock.advance(TTL_MS / 2);
    await expect(cache.get("k", store.load)).resolves.toBe("v1");
    store.fail();
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(TTL_MS / 2);
    const waiting = cache.get("k", store.load);
    expect(store.calls).toBe(3);
    store.fail();
    await expect(waiting).rejects.toThrow("store unavailable");
  });

  it("reads afresh after a delete, even with a load in flight", async () => {
    const { cache, invalidate } = setUp();
    const store = manualLoader();
    const before = cache.get("k", store.load);
    invalidate();
    cache.delete("k");
    const after = cache.get("k", store.load);
    expect(store.calls).toBe(2);
    store.answer("stale");
    store.answer("fresh");
    await expect(before).resolves.toBe("stale");
    await expect(after).resolves.toBe("fresh");
    // The load that started before the invalidation stored nothing.
    await expect(cache.get("k", store.load)).resolves.toBe("fresh");
    expect(store.calls).toBe(2);
  });
});
