import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config/index.js";

function writeToml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-config-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "gatehouse.toml");
  writeFileSync(file, text);
  return file;
}

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("limits configuration", () => {
  it("reads limits, the nested adaptive table and per-kind tables from the file", () => {
    const file = writeToml(`
[limits]
challenge_per_identity = 5
submit_per_address = 0
window_seconds = 10

[limits.adaptive]
enabled = true
threshold = 3

[limits.kinds.iterated_hash]
challenge_per_identity = 2
submit_per_identity = 1
`);
    expect(loadConfig({ mode: "dev", env: {}, file }).limits).toEqual({
      maxMessageBytes: 65_536,
      challengePerIdentity: 5,
      challengePerAddress: 1_200,
      submitPerIdentity: 120,
      submitPerAddress: 0,
      windowSeconds: 10,
      kinds: { iterated_hash: { challengePerIdentity: 2, submitPerIdentity: 1 } },
      adaptive: { enabled: true, threshold: 3 },
    });
  });

  it("takes the environment, and per-kind overrides in camelCase", () => {
    const config = loadConfig({
      mode: "dev",
      env: { GATEHOUSE_LIMIT_CHALLENGE_PER_ADDRESS: "7", GATEHOUSE_ADAPTIVE_POW: "true" },
      overrides: { limits: { kinds: { hashcash: { submitPerAddress: 4 } } } },
    });
    expect(config.limits.challengePerAddress).toBe(7);
    expect(config.limits.adaptive.enabled).toBe(true);
    expect(config.limits.kinds).toEqual({ hashcash: { submitPerAddress: 4 } });
  });

  it("reports every bad per-kind entry and unknown adaptive key together", () => {
    const file = writeToml(`
[limits.adaptive]
threshold = 0
speed = 1

[limits.kinds.bogus]
challenge_per_identity = 1

[limits.kinds.signature]
challenge_per_identity = -1
burst = 3
`);
    const problems = problemsOf(() => loadConfig({ mode: "dev", env: {}, file }));
    expect(problems).toEqual([
      `${file}: unknown key "limits.adaptive.speed"`,
      expect.stringContaining('unknown kind "bogus"'),
      expect.stringContaining("limits.adaptive.threshold"),
    ]);
    expect(problems[1]).toContain("signature.challenge_per_identity: must be an integer 0..100000");
    expect(problems[1]).toContain('signature: unknown key "burst"');
  });

  it("reads the transport limits from the file and the environment, with safe defaults", () => {
    const file = writeToml(`
[transport]
max_concurrent_streams = 32
request_timeout_ms = 2000
`);
    const config = loadConfig({
      mode: "dev",
      env: { GATEHOUSE_MAX_CONNECTIONS_PER_ADDRESS: "8", GATEHOUSE_IDLE_TIMEOUT_MS: "5000" },
      file,
    });
    expect(config.transport).toEqual({
      maxConcurrentStreams: 32,
      maxHeaderListBytes: 16_384,
      maxHeaderPairs: 64,
      requestTimeoutMs: 2_000,
      idleTimeoutMs: 5_000,
      maxConnectionsPerAddress: 8,
      maxSessionMemoryMb: 10,
    });
  });

  it("refuses unbounded transport limits: every one has a ceiling", () => {
    const env = {
      GATEHOUSE_MAX_CONCURRENT_STREAMS: "4294967295",
      GATEHOUSE_MAX_HEADER_LIST_BYTES: "0",
      GATEHOUSE_MAX_HEADER_PAIRS: "100000",
      GATEHOUSE_REQUEST_TIMEOUT_MS: "0",
      GATEHOUSE_IDLE_TIMEOUT_MS: "0",
      GATEHOUSE_MAX_CONNECTIONS_PER_ADDRESS: "0",
      GATEHOUSE_MAX_SESSION_MEMORY_MB: "100000",
    };
    const problems = problemsOf(() => loadConfig({ mode: "dev", env }));
    expect(problems.map((problem) => problem.split(":")[0])).toEqual(Object.keys(env));
  });
});
