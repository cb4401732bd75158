import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { type ConfigError, loadConfig } from "../../../src/config/index.js";

function writeToml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-config-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "gatehouse.toml");
  writeFileSync(file, text);
  return file;
}

describe("loadConfig defaults", () => {
  it("gives the documented defaults with no file, no environment and no overrides", () => {
    expect(loadConfig({ mode: "dev", env: {} })).toEqual({
      mode: "dev",
      issuer: "https://gatehouse.local",
      trustDomain: "gatehouse.local",
      dataDir: resolve(".gatehouse"),
      grpc: { host: "127.0.0.1", port: 7443 },
      connect: { host: "127.0.0.1", port: 7444 },
      tls: { requireClientCert: true },
      store: { kind: "embedded" },
      tokens: {
        defaultTtlSeconds: 300,
        maxTtlSeconds: 3600,
        clockSkewSeconds: 30,
        signingAlg: "EdDSA",
        assertionMaxLifetimeSeconds: 300,
      },
      keys: { rotationIntervalSeconds: 604_800, publicationDelaySeconds: 360 },
      dpop: { maxAgeSeconds: 60, nonces: false },
      verify: { cacheTtlMs: 2_000, cacheMaxEntries: 10_000 },
      audit: { denialWindowSeconds: 60, denialMaxKeys: 256 },
      domains: {
        dnsServers: [],
        timeoutMs: 5_000,
        httpsPort: 443,
        allowPrivateAddresses: false,
        verificationTtlSeconds: 2_592_000,
      },
      operators: { requestSignatureWindowSeconds: 60 },
      grants: {
        maxPending: 5,
        pendingTtlSeconds: 86_400,
        defaultDurationSeconds: 3_600,
        maxDurationSeconds: 2_592_000,
        denialBackoffBaseSeconds: 60,
        denialBackoffMaxSeconds: 86_400,
      },
      challenges: {
        ttlSeconds: 60,
        passTtlSeconds: 60,
        iteratedHashIterations: 100_000,
        hashcashDifficultyBits: 18,
        computeWorkers: 1,
        reasoningDifficulty: 2,
        reasoningDeadlineSeconds: 20,
        reasoningFamilies: {},
      },
      attestation: {},
      runtime: {
        toleranceMs: 1000,
        signatureMinMs: 0,
        signatureMaxMs: 30_000,
        reasoningMinMs: 50,
        reasoningMaxMs: 60_000,
        iteratedHashMinMs: 0,
        iteratedHashMaxMs: 60_000,
        hashcashMinMs: 0,
        hashcashMaxMs: 600_000,
      },
      proxy: { enabled: false },
      limits: {
        maxMessageBytes: 65_536,
        challengePerIdentity: 120,
        challengePerAddress: 1_200,
        submitPerIdentity: 120,
        submitPerAddress: 1_200,
        windowSeconds: 60,
        kinds: {},
        adaptive: { enabled: false, threshold: 30 },
      },
      transport: {
        maxConcurrentStreams: 100,
        maxHeaderListBytes: 16_384,
        maxHeaderPairs: 64,
        requestTimeoutMs: 10_000,
        idleTimeoutMs: 60_000,
        maxConnectionsPerAddress: 64,
        maxSessionMemoryMb: 10,
      },
      approval: {
        enabled: true,
        host: "127.0.0.1",
        port: 7445,
        inviteTtlSeconds: 86_400,
        sessionTtlSeconds: 900,
      },
      sidecar: {
        host: "127.0.0.1",
        port: 7447,
        plainHttp: false,
        plainHttpAnyHost: false,
        forwardAuthRequiresClientCert: false,
        maxBodyBytes: 65_536,
        maxHeaderBytes: 16_384,
        requestTimeoutMs: 15_000,
        idleTimeoutMs: 60_000,
        maxConnections: 1_024,
        workers: 1,
        verifier: "upstream",
        upstreamTimeoutMs: 5_000,
        routes: [],
        legacyAog: false,
        legacyAogScopes: [],
        legacyAogUnsignedAutonomy: false,
        legacyAuth4agent: false,
      },
      metrics: { enabled: true, host: "127.0.0.1", port: 7446 },
      role: "all",
      log: { level: "info" },
      shutdownGraceMs: 10_000,
      workers: 1,
    });
  });

  it("reads the sidecar section: plain HTTP stays on loopback, routes are checked", () => {
    const problems = (overrides: Parameters<typeof loadConfig>[0]["overrides"]) => {
      try {
        loadConfig({ mode: "dev", env: {}, ...(overrides ? { overrides } : {}) });
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ sidecar: { plainHttp: true } })).toEqual([]);
    expect(problems({ sidecar: { plainHttp: true, host: "0.0.0.0" } })).toEqual([
      expect.stringContaining("plain HTTP listens on loopback only"),
    ]);
    expect(
      problems({ sidecar: { plainHttp: true, host: "0.0.0.0", plainHttpAnyHost: true } }),
    ).toEqual([]);
    const routes = [
      {
        host: "api.example.com",
        path_prefix: "/mcp",
        resource: "https://api.example.com/mcp",
        scopes: ["mcp:use"],
      },
    ];
    const config = loadConfig({
      mode: "dev",
      env: {},
      overrides: { sidecar: { routes } as never },
    });
    expect(config.sidecar.routes).toEqual([
      {
        host: "api.example.com",
        pathPrefix: "/mcp",
        resource: "https://api.example.com/mcp",
        audience: "https://api.example.com/mcp",
        scopes: ["mcp:use"],
        mcp: false,
        mcpScopes: [],
      },
    ]);
    expect(
      problems({ sidecar: { routes: [{ resource: "not a url", scopes: [1] }] } as never }),
    ).toEqual([expect.stringMatching(/routes\[0\]\.resource.*routes\[0\]\.scopes/)]);
  });

  it("reads sidecar.workers: 1..64, and more than one needs no Redis (unlike the server's)", () => {
    const load = (env: Record<string, string>) => loadConfig({ mode: "dev", env });
    expect(load({}).sidecar.workers).toBe(1);
    expect(load({ GATEHOUSE_SIDECAR_WORKERS: "4" })).toMatchObject({
      store: { kind: "embedded" },
      sidecar: { workers: 4 },
      workers: 1,
    });
    for (const value of ["0", "65", "two"]) {
      expect(() => load({ GATEHOUSE_SIDECAR_WORKERS: value })).toThrow(
        `GATEHOUSE_SIDECAR_WORKERS: must be an integer 1..64, got "${value}"`,
      );
    }
  });

  it("reads the legacy routes: the AOG ones need an audience and scopes", () => {
    const problems = (sidecar: Record<string, unknown>, env: Record<string, string> = {}) => {
      try {
        loadConfig({ mode: "dev", env, overrides: { sidecar } as never });
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ legacyAog: true })).toEqual([
      expect.stringContaining("the AOG routes need sidecar.legacy_aog_audience"),
    ]);
    expect(problems({ legacyAog: true, legacyAogAudience: "https://api" })).toHaveLength(1);
    expect(problems({ legacyAogHeaderSecret: "short" })).toEqual([
      expect.stringContaining("must be at least 32 bytes (value not shown)"),
    ]);
    const config = loadConfig({
      mode: "dev",
      env: {
        GATEHOUSE_SIDECAR_LEGACY_AOG: "true",
        GATEHOUSE_SIDECAR_LEGACY_AOG_AUDIENCE: "https://api.example.com",
        GATEHOUSE_SIDECAR_LEGACY_AOG_SCOPES: "orders:read, orders:write",
      },
    });
    expect(config.sidecar).toMatchObject({
      legacyAog: true,
      legacyAogAudience: "https://api.example.com",
      legacyAogScopes: ["orders:read", "orders:write"],
      legacyAuth4agent: false,
    });
    expect(problems({}, { GATEHOUSE_SIDECAR_LEGACY_AOG_SCOPES: "bad scope!" })).toEqual([
      expect.stringContaining("must list at most 64 scope names"),
    ]);
  });

  it("omits the TLS files in dev mode so the dev PKI is used", () => {
    const { tls } = loadConfig({ mode: "dev", env: {} });
    expect(Object.keys(tls)).toEqual(["requireClientCert"]);
  });

  it("returns a deeply frozen object", () => {
    const config = loadConfig({ mode: "dev", env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    for (const section of [config.grpc, config.connect, config.tls, config.store, config.tokens]) {
      expect(Object.isFrozen(section)).toBe(true);
    }
    expect(() => {
      (config.grpc as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe("loadConfig sources, later wins", () => {
  const fileText = [
    'issuer = "https://gate.example.com"',
    "[grpc]",
    "port = 9000",
    "[tokens]",
    "default_ttl_seconds = 120",
    "clock_skew_seconds = 10",
    "[log]",
    'level = "debug"',
  ].join("\n");

  it("reads the TOML file over the defaults", () => {
    const config = loadConfig({ mode: "dev", file: writeToml(fileText), env: {} });
    expect(config.issuer).toBe("https://gate.example.com");
    expect(config.grpc).toEqual({ host: "127.0.0.1", port: 9000 });
    expect(config.tokens).toMatchObject({ defaultTtlSeconds: 120, clockSkewSeconds: 10 });
    expect(config.log.level).toBe("debug");
  });

  it("finds the file through GATEHOUSE_CONFIG when no file is passed", () => {
    const config = loadConfig({ mode: "dev", env: { GATEHOUSE_CONFIG: writeToml(fileText) } });
    expect(config.grpc.port).toBe(9000);
  });

  it("lets the environment win over the file, and overrides win over both", () => {
    const config = loadConfig({
      mode: "dev",
      file: writeToml(fileText),
      env: { GATEHOUSE_GRPC_PORT: "9100", GATEHOUSE_TOKEN_TTL: "90", GATEHOUSE_LOG_LEVEL: "warn" },
      overrides: { grpc: { port: 0 }, log: { level: "silent" } },
    });
    expect(config.grpc.port).toBe(0);
    expect(config.tokens.defaultTtlSeconds).toBe(90);
    expect(config.tokens.clockSkewSeconds).toBe(10);
    expect(config.log.level).toBe("silent");
  });

  it("treats empty environment variables as unset", () => {
    const config = loadConfig({ mode: "dev", env: { GATEHOUSE_GRPC_PORT: "", REDIS_URL: "" } });
    expect(config.grpc.port).toBe(7443);
    expect(config.store).toEqual({ kind: "embedded" });
  });

  it("parses booleans and resolves paths from the environment", () => {
    const config = loadConfig({
      mode: "serve",
      env: {
        GATEHOUSE_TLS_CERT: "pki/server.crt",
        GATEHOUSE_TLS_KEY: "/etc/gatehouse/server.key",
        GATEHOUSE_TLS_CA: "pki/ca.crt",
        GATEHOUSE_REQUIRE_CLIENT_CERT: "false",
        GATEHOUSE_DATA_DIR: "state",
      },
    });
    expect(config.tls).toEqual({
      certFile: resolve("pki/server.crt"),
      keyFile: "/etc/gatehouse/server.key",
      caFile: resolve("pki/ca.crt"),
      requireClientCert: false,
    });
    expect(config.dataDir).toBe(resolve("state"));
  });

  it("reads the domains section: resolvers as a TOML array or comma-separated", () => {
    const file = writeToml(
      [
        "[domains]",
        'dns_servers = ["192.0.2.53", "[2001:db8::53]:5353"]',
        "allow_private_addresses = true",
        'ca_file = "pki/domains-ca.pem"',
      ].join("\n"),
    );
    expect(loadConfig({ mode: "dev", file, env: {} }).domains).toMatchObject({
      dnsServers: ["192.0.2.53", "[2001:db8::53]:5353"],
      allowPrivateAddresses: true,
      caFile: resolve("pki/domains-ca.pem"),
    });
    const env = { GATEHOUSE_DOMAIN_DNS_SERVERS: "127.0.0.1:5353, 10.0.0.2" };
    expect(loadConfig({ mode: "dev", env }).domains.dnsServers).toEqual([
      "127.0.0.1:5353",
      "10.0.0.2",
    ]);
    expect(() =>
      loadConfig({ mode: "dev", env: { GATEHOUSE_DOMAIN_DNS_SERVERS: "dns.example.com" } }),
    ).toThrow('must list DNS server addresses (ip or ip:port), got "dns.example.com"');
  });
});

describe("loadConfig store selection", () => {
  it("selects redis from REDIS_URL", () => {
    const config = loadConfig({
      mode: "dev",
      env: { REDIS_URL: "redis://localhost:6379/0", GATEHOUSE_REDIS_CLUSTER: "true" },
    });
    expect(config.store).toEqual({ kind: "redis", url: "redis://localhost:6379/0", cluster: true });
  });

  it("selects redis from store.url in the file", () => {
    const file = writeToml('[store]\nurl = "rediss://cache.internal:6380"');
    const config = loadConfig({ mode: "dev", file, env: {} });
    expect(config.store).toEqual({
      kind: "redis",
      url: "rediss://cache.internal:6380",
      cluster: false,
    });
  });

  it("lets REDIS_URL win over an embedded store in the file", () => {
    const file = writeToml('[store]\nkind = "embedded"');
    const config = loadConfig({ mode: "dev", file, env: { REDIS_URL: "redis://localhost:6379" } });
    expect(config.store.kind).toBe("redis");
  });

  it("lets an override choose the embedded store over REDIS_URL", () => {
    const config = loadConfig({
      mode: "dev",
      env: { REDIS_URL: "redis://localhost:6379" },
      overrides: { store: { kind: "embedded" } },
    });
    expect(config.store).toEqual({ kind: "embedded" });
  });
});

describe("the [metrics] section and the role", () => {
  it("reads them from the file and the environment", () => {
    const file = writeToml(
      ['role = "verifier"', "[metrics]", 'host = "0.0.0.0"', "port = 9464"].join("\n"),
    );
    const fromFile = loadConfig({ mode: "dev", file, env: {} });
    expect(fromFile.metrics).toEqual({ enabled: true, host: "0.0.0.0", port: 9464 });
    expect(fromFile.role).toBe("verifier");
    const env = { GATEHOUSE_METRICS_ENABLED: "false", GATEHOUSE_ROLE: "issuer" };
    const fromEnv = loadConfig({ mode: "dev", env });
    expect(fromEnv.metrics.enabled).toBe(false);
    expect(fromEnv.role).toBe("issuer");
  });

  it("reports an unknown role and a metrics port shared with an mTLS port, together", () => {
    const env = { GATEHOUSE_ROLE: "signer", GATEHOUSE_METRICS_PORT: "7443" };
    expect(() => loadConfig({ mode: "dev", env })).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringContaining("GATEHOUSE_ROLE"),
          "metrics.port / GATEHOUSE_METRICS_PORT: must differ from the gRPC, Connect and sidecar ports, got 7443",
        ],
      }),
    );
  });
});
