import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createManualClock } from "../../../src/clock.js";
import type { VerificationKey } from "../../../src/crypto/key-ring.js";
import { LruCache, type VerifiedTokenEntry, VerifyCache } from "../../../src/verify/cache.js";
import type { VerifiedClaims, VerifyInput } from "../../../src/verify/types.js";

describe("LruCache", () => {
  it("holds at most maxEntries and keeps what was used recently", () => {
    const cache = new LruCache<number>(4);
    for (let i = 0; i < 100; i++) {
      cache.set(`k${i}`, i);
      expect(cache.get("hot")).toBe(i === 0 ? undefined : 0);
      if (i === 0) cache.set("hot", 0);
      expect(cache.size).toBeLessThanOrEqual(4);
    }
    expect(cache.get("k0")).toBeUndefined();
    expect(cache.get("k99")).toBe(99);
  });

  it("replaces, deletes and clears", () => {
    const cache = new LruCache<string>(10);
    cache.set("a", "1");
    cache.set("a", "2");
    expect(cache.get("a")).toBe("2");
    expect(cache.size).toBe(1);
    cache.delete("a");
    expect(cache.get("a")).toBeUndefined();
    cache.set("b", "3");
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe("VerifyCache token entries", () => {
  const clock = createManualClock(1_700_000_000_000);
  const { publicKey } = generateKeyPairSync("ed25519");
  const key: VerificationKey = { kid: "k1", alg: "EdDSA", publicKey, jwk: {} };
  const token = "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl";
  const input = (over: Partial<VerifyInput> = {}): VerifyInput => ({
    token,
    audience: "https://api.example.com",
    requiredScopes: ["orders:read"],
    ...over,
  });
  const entry = (): VerifiedTokenEntry => ({
    token,
    audience: "https://api.example.com",
    header: {},
    payload: {},
    claims: {} as VerifiedClaims,
    key,
    policyVersion: 1,
    expiresAtMs: clock.now() + 60_000,
  });

  it("serves an entry only for the very token and audience it was stored for", () => {
    const cache = new VerifyCache({ clock, ttlMs: 1_000, maxEntries: 100 });
    cache.setToken(cache.tokenKey(input()), entry());
    expect(cache.getToken(cache.tokenKey(input()), input())).toBeDefined();
    // The scopes are checked after the cache, on every request: not part of the entry.
    const otherScopes = input({ requiredScopes: ["orders:write"] });
    expect(cache.getToken(cache.tokenKey(otherScopes), otherScopes)).toBeDefined();
    // Same signature segment, another payload: found by its key, never served.
    const tampered = input({ token: "aGVhZGVy.d2lkZW5lZA.c2lnbmF0dXJl" });
    expect(cache.tokenKey(tampered)).toBe(cache.tokenKey(input()));
    expect(cache.getToken(cache.tokenKey(tampered), tampered)).toBeUndefined();
    const otherAudience = input({ audience: "https://other.example" });
    expect(cache.getToken(cache.tokenKey(otherAudience), otherAudience)).toBeUndefined();
    // A refused look-up does not evict the genuine entry.
    expect(cache.getToken(cache.tokenKey(input()), input())).toBeDefined();
  });

  it("drops an entry once it expires", () => {
    const cache = new VerifyCache({ clock, ttlMs: 1_000, maxEntries: 100 });
    cache.setToken(cache.tokenKey(input()), entry());
    clock.advance(60_000);
    expect(cache.getToken(cache.tokenKey(input()), input())).toBeUndefined();
  });
});
