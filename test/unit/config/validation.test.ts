import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConfigError, type LoadConfigOptions, loadConfig } from "../../../src/config/index.js";

function writeToml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-config-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "gatehouse.toml");
  writeFileSync(file, text);
  return file;
}

function problemsOf(options: LoadConfigOptions): readonly string[] {
  try {
    loadConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const PASSWORD = "s3cr3t-Pa55word";

describe("loadConfig problems", () => {
  it("reports every invalid value at once, naming each variable", () => {
    const problems = problemsOf({
      mode: "dev",
      env: {
        GATEHOUSE_GRPC_PORT: "abc",
        GATEHOUSE_CONNECT_PORT: "70000",
        GATEHOUSE_ISSUER: "ftp://gate.example.com",
        GATEHOUSE_TRUST_DOMAIN: "Gatehouse.Local",
        GATEHOUSE_SIGNING_ALG: "RS256",
        GATEHOUSE_CLOCK_SKEW: "301",
        GATEHOUSE_CHALLENGE_TTL: "4",
        GATEHOUSE_MAX_MESSAGE_BYTES: "512",
        GATEHOUSE_LOG_LEVEL: "verbose",
        GATEHOUSE_REQUIRE_CLIENT_CERT: "maybe",
      },
    });
    expect(problems).toEqual([
      'GATEHOUSE_ISSUER: must be an https URL (http only for localhost), got "ftp://gate.example.com"',
      'GATEHOUSE_TRUST_DOMAIN: must be a lowercase DNS name, got "Gatehouse.Local"',
      'GATEHOUSE_GRPC_PORT: must be an integer 0..65535, got "abc"',
      'GATEHOUSE_CONNECT_PORT: must be an integer 0..65535, got "70000"',
      'GATEHOUSE_REQUIRE_CLIENT_CERT: must be true or false, got "maybe"',
      'GATEHOUSE_CLOCK_SKEW: must be an integer 0..300, got "301"',
      'GATEHOUSE_SIGNING_ALG: must be one of EdDSA, ES256; got "RS256"',
      'GATEHOUSE_CHALLENGE_TTL: must be an integer 5..600, got "4"',
      'GATEHOUSE_MAX_MESSAGE_BYTES: must be an integer 1024..4194304, got "512"',
      'GATEHOUSE_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent; got "verbose"',
    ]);
  });

  it("names the file key for invalid values in the file, and the override path for overrides", () => {
    const file = writeToml('[grpc]\nport = "7443x"\n[challenges]\npass_ttl_seconds = 5.5');
    const problems = problemsOf({
      mode: "dev",
      file,
      env: {},
      overrides: { tokens: { maxTtlSeconds: 86_401 } },
    });
    expect(problems).toEqual([
      `grpc.port (${file}): must be an integer 0..65535, got "7443x"`,
      "overrides.tokens.maxTtlSeconds: must be an integer 1..86400, got 86401",
      `challenges.pass_ttl_seconds (${file}): must be an integer 5..600, got 5.5`,
    ]);
  });

  it("rejects unknown keys in the file, alongside other problems", () => {
    const file = writeToml(
      [
        "shutdown_grace = 5",
        "[grpc]",
        "prot = 7443",
        "[tokens]",
        "default_ttl = 60",
        "[grpc.tls]",
        "x = 1",
        "[telemetry]",
        "port = 9",
      ].join("\n"),
    );
    const problems = problemsOf({ mode: "dev", file, env: { GATEHOUSE_GRPC_PORT: "-1" } });
    expect(problems).toEqual([
      `${file}: unknown key "shutdown_grace"`,
      `${file}: unknown key "grpc.prot"`,
      `${file}: unknown key "grpc.tls"`,
      `${file}: unknown key "tokens.default_ttl"`,
      `${file}: unknown key "telemetry"`,
      'GATEHOUSE_GRPC_PORT: must be an integer 0..65535, got "-1"',
    ]);
  });

  it("requires sections to be tables", () => {
    const file = writeToml("grpc = 7443");
    expect(problemsOf({ mode: "dev", file, env: {} })).toEqual([`grpc (${file}): must be a table`]);
  });

  it("reports an unreadable or malformed file", () => {
    const missing = join(tmpdir(), "gatehouse-no-such-dir", "gatehouse.toml");
    expect(problemsOf({ mode: "dev", file: missing, env: {} })).toEqual([
      `${missing}: cannot read the config file (ENOENT)`,
    ]);
    const malformed = writeToml("[grpc]\nport = 1\nport = 2");
    expect(problemsOf({ mode: "dev", file: malformed, env: {} })).toEqual([
      `${malformed}:3:1: Invalid TOML document: trying to redefine an already defined table or value`,
    ]);
  });

  it("requires every TLS file in serve mode, reporting each missing one", () => {
    expect(problemsOf({ mode: "serve", env: { GATEHOUSE_TLS_KEY: "server.key" } })).toEqual([
      "tls.cert_file / GATEHOUSE_TLS_CERT: required in serve mode",
      "tls.ca_file / GATEHOUSE_TLS_CA: required in serve mode",
    ]);
    expect(problemsOf({ mode: "serve", env: {} })).toHaveLength(3);
  });

  it("takes all three TLS files or none in dev mode", () => {
    expect(problemsOf({ mode: "dev", env: { GATEHOUSE_TLS_CA: "ca.crt" } })).toEqual([
      "tls.cert_file / GATEHOUSE_TLS_CERT: required when any TLS file is set",
      "tls.key_file / GATEHOUSE_TLS_KEY: required when any TLS file is set",
    ]);
  });

  it("keeps the default token TTL within the maximum", () => {
    expect(problemsOf({ mode: "dev", env: { GATEHOUSE_TOKEN_MAX_TTL: "100" } })).toEqual([
      "tokens.default_ttl_seconds: must not exceed GATEHOUSE_TOKEN_MAX_TTL (100), got 300",
    ]);
  });

  it("does not compare token TTLs when one of them is already invalid", () => {
    const env = { GATEHOUSE_TOKEN_TTL: "5000", GATEHOUSE_TOKEN_MAX_TTL: "lots" };
    expect(problemsOf({ mode: "dev", env })).toEqual([
      'GATEHOUSE_TOKEN_MAX_TTL: must be an integer 1..86400, got "lots"',
    ]);
  });

  it("requires a URL for a redis store", () => {
    const file = writeToml('[store]\nkind = "redis"');
    expect(problemsOf({ mode: "dev", file, env: {} })).toEqual([
      'store.url / REDIS_URL: required when store.kind is "redis"',
    ]);
  });

  it.each([
    ["http://gate.example.com", "must be an https URL (http only for localhost)"],
    ["https://gate.example.com/?tenant=a", "must not have a query or fragment"],
    ["https://gate.example.com#top", "must not have a query or fragment"],
    ["gate.example.com", "must be an https URL"],
  ])("rejects the issuer %s", (issuer, problem) => {
    const [reported] = problemsOf({ mode: "dev", env: { GATEHOUSE_ISSUER: issuer } });
    expect(reported).toContain(`GATEHOUSE_ISSUER: ${problem}`);
  });

  it("accepts an http issuer on localhost", () => {
    const env = { GATEHOUSE_ISSUER: "http://127.0.0.1:7444" };
    expect(loadConfig({ mode: "dev", env }).issuer).toBe("http://127.0.0.1:7444");
  });

  it("lists every problem in the error message", () => {
    const env = { GATEHOUSE_GRPC_PORT: "abc", GATEHOUSE_LOG_LEVEL: "loud" };
    expect(() => loadConfig({ mode: "dev", env })).toThrow(
      /GATEHOUSE_GRPC_PORT.*\n.*GATEHOUSE_LOG_LEVEL/,
    );
  });
});

describe("loadConfig never echoes secrets", () => {
  it("does not print an invalid REDIS_URL", () => {
    const problems = problemsOf({
      mode: "dev",
      env: { REDIS_URL: `http://user:${PASSWORD}@cache:6379` },
    });
    expect(problems).toEqual([
      "REDIS_URL: invalid URL: must be redis://… or rediss://… (value not shown)",
    ]);
  });

  it("does not print a Redis URL from the file, nor an issuer with credentials", () => {
    const file = writeToml(`[store]\nurl = "redis//:${PASSWORD}@cache"`);
    const problems = problemsOf({
      mode: "dev",
      file,
      env: { GATEHOUSE_ISSUER: `https://admin:${PASSWORD}@gate.example.com` },
    });
    expect(problems).toHaveLength(2);
    expect(problems.join("\n")).not.toContain(PASSWORD);
  });

  it("does not quote the offending line of a malformed file", () => {
    const file = writeToml(`[store]\nurl = "redis://:${PASSWORD}@cache\n`);
    const [problem] = problemsOf({ mode: "dev", file, env: {} });
    expect(problem).toMatch(/:2:\d+: Invalid TOML document: control characters are not allowed/);
    expect(problem).not.toContain(PASSWORD);
  });
});
