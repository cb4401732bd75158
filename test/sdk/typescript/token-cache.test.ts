import { describe, expect, it } from "vitest";
import { createTokenCache, type IssuedToken } from "../../../clients/typescript/src/agent/index.js";
import { createManualClock } from "../../../src/clock.js";

const MINUTE = 60_000;

/** An obtain that hands out numbered tokens valid for `lifetimeMs`, resolved by hand. */
function tokenSource(clock: { now(): number }, lifetimeMs = 10 * MINUTE) {
  const pending: Array<() => void> = [];
  let issued = 0;
  return {
    get issued() {
      return issued;
    },
    /** Lets every obtain that is waiting finish. */
    release() {
      for (const resolve of pending.splice(0)) resolve();
    },
    obtain(): Promise<IssuedToken> {
      issued += 1;
      const token: IssuedToken = {
        accessToken: `token-${issued}`,
        tokenType: "DPoP",
        expiresAtMs: clock.now() + lifetimeMs,
        scopes: ["orders:read"],
      };
      return new Promise((resolve) => pending.push(() => resolve(token)));
    },
  };
}

describe("token cache", () => {
  it("runs one obtain for any number of concurrent callers (single flight)", async () => {
    const clock = createManualClock(0);
    const source = tokenSource(clock);
    const cache = createTokenCache({ obtain: () => source.obtain(), clock });
    const waiting = Array.from({ length: 20 }, () => cache.get());
    source.release();
    const tokens = await Promise.all(waiting);
    expect(source.issued).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(["token-1"]));
  });

  it("refreshes early in the background and serves the current token meanwhile", async () => {
    const clock = createManualClock(0);
    const source = tokenSource(clock);
    const cache = createTokenCache({
      obtain: () => source.obtain(),
      clock,
      refreshAheadMs: MINUTE,
    });
    const first = cache.get();
    source.release();
    expect((await first).accessToken).toBe("token-1");
    // Before the refresh window: cached, nothing obtained.
    clock.advance(8 * MINUTE);
    expect((await cache.get()).accessToken).toBe("token-1");
    expect(source.issued).toBe(1);
    // Inside the last minute: still served, one refresh started whatever the callers.
    clock.advance(1.5 * MINUTE);
    const during = await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(during.map((t) => t.accessToken)).toEqual(["token-1", "token-1", "token-1"]);
    expect(source.issued).toBe(2);
    source.release();
    await Promise.resolve();
    await Promise.resolve();
    expect((await cache.get()).accessToken).toBe("token-2");
    expect(source.issued).toBe(2);
  });

  it("waits for a new token once the cached one is (nearly) expired", async () => {
    const clock = createManualClock(0);
    const source = tokenSource(clock);
    const cache = createTokenCache({ obtain: () => source.obtain(), clock, minValidityMs: 5_000 });
    const first = cache.get();
    source.release();
    await first;
    clock.advance(10 * MINUTE - 4_000);
    const next = cache.get();
    source.release();
    expect((await next).accessToken).toBe("token-2");
  });

  it("keeps the valid token when a background refresh fails, and drops it on invalidate", async () => {
    const clock = createManualClock(0);
    let fail = false;
    let issued = 0;
    const cache = createTokenCache({
      clock,
      obtain: async () => {
        if (fail) throw new Error("unavailable");
        issued += 1;
        return {
          accessToken: `t${issued}`,
          tokenType: "Bearer",
          expiresAtMs: clock.now() + 10 * MINUTE,
          scopes: [],
        };
      },
    });
    expect((await cache.get()).accessToken).toBe("t1");
    fail = true;
    clock.advance(9.5 * MINUTE);
    expect((await cache.get()).accessToken).toBe("t1");
    // Let the failed refresh settle (a get meanwhile would join it: single flight).
    await new Promise((resolve) => setImmediate(resolve));
    fail = false;
    cache.invalidate();
    expect((await cache.get()).accessToken).toBe("t2");
  });
});
