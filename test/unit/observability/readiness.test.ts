import { describe, expect, it } from "vitest";
import type { KeyStatus } from "../../../src/crypto/key-ring.js";
import { serverReadiness } from "../../../src/observability/readiness.js";

const signing: KeyStatus = {
  kid: "k1",
  alg: "EdDSA",
  createdAt: 0,
  activateAt: 0,
  state: "signing",
};

const healthy = {
  store: { ping: () => Promise.resolve() },
  keys: { schedule: () => Promise.resolve([signing]) },
  draining: () => false,
};

describe("serverReadiness", () => {
  it("is ready when the store answers, a key signs and the server is not draining", async () => {
    expect(await serverReadiness(healthy)()).toEqual({
      ready: true,
      checks: { store: "ok", signing_keys: "ok", not_draining: "ok" },
    });
  });

  it("is not ready while draining", async () => {
    const report = await serverReadiness({ ...healthy, draining: () => true })();
    expect(report).toMatchObject({ ready: false, checks: { not_draining: "failed" } });
  });

  it("is not ready without a signing key (only retired or pending ones)", async () => {
    const keys = { schedule: () => Promise.resolve([{ ...signing, state: "pending" as const }]) };
    const report = await serverReadiness({ ...healthy, keys })();
    expect(report).toMatchObject({ ready: false, checks: { signing_keys: "failed" } });
  });

  it("fails a check that hangs past the bound, and one that rejects", async () => {
    const store = { ping: () => new Promise<void>(() => {}) };
    const keys = { schedule: () => Promise.reject(new Error("wrong encryption key")) };
    const report = await serverReadiness({ ...healthy, store, keys, timeoutMs: 50 })();
    expect(report).toEqual({
      ready: false,
      checks: { store: "failed", signing_keys: "failed", not_draining: "ok" },
    });
  });
});
