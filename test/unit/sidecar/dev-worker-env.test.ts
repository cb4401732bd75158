import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { devWorkerEnv, withDevSidecar } from "../../../src/sidecar/dev.js";

/**
 * `gatehouse dev` with server workers: each worker loads its configuration from its own
 * environment, so the proxy `withDevSidecar` made up in the primary must reach them through it.
 */
describe("gatehouse dev's environment for its server workers", () => {
  it("carries the made-up proxy, which the workers load back as the same settings", () => {
    const loaded = loadConfig({ mode: "dev", env: {} });
    const dev = withDevSidecar(loaded);
    const env = devWorkerEnv(loaded, dev);
    expect(Object.keys(env).sort()).toEqual([
      "GATEHOUSE_PROXY_ENABLED",
      "GATEHOUSE_PROXY_HMAC_SECRET",
      "GATEHOUSE_PROXY_MAX_AGE",
      "GATEHOUSE_PROXY_TRUSTED_PEERS",
    ]);
    const worker = loadConfig({ mode: "dev", env });
    expect(worker.proxy).toEqual(dev.proxy);
    // And the worker's own pass keeps it rather than making up another.
    expect(withDevSidecar(worker).proxy).toEqual(dev.proxy);
  });

  it("adds nothing when the proxy is configured: the workers read the same settings", () => {
    const configured = {
      GATEHOUSE_PROXY_ENABLED: "true",
      GATEHOUSE_PROXY_TRUSTED_PEERS: "10.0.0.1",
      GATEHOUSE_PROXY_HMAC_SECRET: "s".repeat(32),
    };
    const loaded = loadConfig({ mode: "dev", env: configured });
    expect(devWorkerEnv(loaded, withDevSidecar(loaded))).toEqual({});
  });
});
