import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, loadConfig } from "../../../src/config/index.js";

const TLS = {
  GATEHOUSE_TLS_CERT: "/pki/server.crt",
  GATEHOUSE_TLS_KEY: "/pki/server.key",
  GATEHOUSE_TLS_CA: "/pki/ca.crt",
};

function problemsOf(options: Parameters<typeof loadConfig>[0]): readonly string[] {
  try {
    loadConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("keys configuration", () => {
  it("defaults to weekly rotation, published ahead of the JWKS cache lifetime", () => {
    const { keys } = loadConfig({ mode: "dev", env: {} });
    expect(keys).toEqual({ rotationIntervalSeconds: 604_800, publicationDelaySeconds: 360 });
  });

  it("requires an encryption key in serve mode with redis (fail closed), not in dev", () => {
    const env = { ...TLS, REDIS_URL: "redis://localhost:6379" };
    expect(problemsOf({ mode: "serve", env })).toEqual([
      "keys.encryption_key / GATEHOUSE_KEY_ENCRYPTION_KEY: required in serve mode with a redis " +
        "store (signing keys are stored there encrypted)",
    ]);
    const key = randomBytes(32).toString("base64url");
    expect(
      problemsOf({ mode: "serve", env: { ...env, GATEHOUSE_KEY_ENCRYPTION_KEY: key } }),
    ).toEqual([]);
    expect(problemsOf({ mode: "dev", env: { REDIS_URL: "redis://localhost:6379" } })).toEqual([]);
  });

  it("never echoes an invalid or valid encryption key", () => {
    const short = randomBytes(16).toString("base64");
    const problems = problemsOf({ mode: "dev", env: { GATEHOUSE_KEY_ENCRYPTION_KEY: short } });
    expect(problems).toEqual([
      "GATEHOUSE_KEY_ENCRYPTION_KEY: must be 32 bytes, base64 or base64url encoded (value not shown)",
    ]);
    const key = randomBytes(32).toString("base64");
    const config = loadConfig({
      mode: "dev",
      env: { REDIS_URL: "redis://localhost:6379", GATEHOUSE_KEY_ENCRYPTION_KEY: key },
    });
    const summary = describeConfig(config);
    expect(summary).toContain("keys");
    expect(summary).toContain("stored in redis encrypted");
    expect(summary).not.toContain(key);
  });

  it("refuses a rotation interval shorter than the publication delay, and a short delay", () => {
    expect(
      problemsOf({ mode: "dev", env: {}, overrides: { keys: { rotationIntervalSeconds: 60 } } }),
    ).toEqual([
      "overrides.keys.rotationIntervalSeconds: must be 0 or at least " +
        "keys.publication_delay_seconds (360)",
    ]);
    expect(
      problemsOf({ mode: "dev", env: { GATEHOUSE_KEY_PUBLICATION_DELAY: "60" } }),
    ).toHaveLength(1);
    expect(
      loadConfig({ mode: "dev", env: {}, overrides: { keys: { rotationIntervalSeconds: 0 } } }).keys
        .rotationIntervalSeconds,
    ).toBe(0);
  });
});
