import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { ClientTls } from "../../clients/typescript/src/index.js";
import { createGrpcClient } from "../../clients/typescript/src/index.js";
import { AuditChainProblem, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { type Gatehouse, startGatehouse } from "../../src/app/gatehouse.js";
import { devPkiDir } from "../../src/app/tls.js";
import type { Clock } from "../../src/clock.js";
import { type ConfigOverrides, loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { createCertificateAuthority } from "../../src/pki/certificate-authority.js";
import { ensureDevPki } from "../../src/pki/dev-pki.js";
import { issueCertificate } from "../../src/pki/issue-certificate.js";
import { type RoleIdentity, roleCertificateSpec } from "../../src/pki/role-certificate.js";
import { createStore, type Store } from "../../src/store/index.js";
import { recordAuditChain, recordLogLine } from "./secrets.js";

export const TRUST_DOMAIN = "gatehouse.test";
export const ISSUER = "https://gatehouse.test";

export type StoreKind = "memory" | "redis";

export interface TestGatehouse {
  readonly app: Gatehouse;
  readonly dataDir: string;
  readonly grpcAddress: string;
  readonly connectUrl: string;
  /** The plain-HTTP metrics and health listener (`http://127.0.0.1:<port>`). */
  readonly metricsUrl: string;
  /** Every log line the server wrote, for the no-secrets assertions. */
  readonly logs: string[];
  /** A client certificate for a role, signed by the server's CA. */
  clientTls(identity: RoleIdentity): Promise<ClientTls>;
  /** A client certificate from a CA the server does not trust. */
  foreignTls(identity: RoleIdentity): Promise<ClientTls>;
  /** The server's CA, for clients without a certificate. */
  readonly caPem: string;
  stop(): Promise<void>;
  /** Stops and removes the data directory. */
  dispose(): Promise<void>;
}

export interface TestGatehouseOptions {
  readonly storeKind?: StoreKind;
  readonly redisUrl?: string;
  /** `redisUrl` is one seed node of a Redis Cluster (test/support/redis-cluster.ts). */
  readonly redisCluster?: boolean;
  readonly clock?: Clock;
  /** Reuse a data directory (restart tests). */
  readonly dataDir?: string;
  /**
   * The test breaks the audit chain on purpose (and checks that itself): skip the check
   * every other server gets when it stops (its chain must verify, test/scan-logs.ts).
   */
  readonly tampersWithAudit?: boolean;
  readonly overrides?: ConfigOverrides;
  /** An already-open store (e.g. embedded on a failing file system); closed on stop. */
  readonly store?: Store;
}

/** Starts a real Gatehouse on ephemeral loopback ports, with its own dev PKI and data dir. */
export async function startTestGatehouse(
  options: TestGatehouseOptions = {},
): Promise<TestGatehouse> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "gatehouse-test-")));
  const redis = options.storeKind === "redis";
  if (redis && !options.redisUrl) throw new Error("redis store needs redisUrl");
  const config = loadConfig({
    mode: "dev",
    env: {},
    overrides: {
      issuer: ISSUER,
      trustDomain: TRUST_DOMAIN,
      dataDir,
      grpc: { host: "127.0.0.1", port: 0 },
      connect: { host: "127.0.0.1", port: 0 },
      approval: { host: "127.0.0.1", port: 0 },
      metrics: { host: "127.0.0.1", port: 0 },
      log: { level: "info" },
      ...(redis
        ? {
            store: {
              kind: "redis",
              url: options.redisUrl ?? "",
              cluster: options.redisCluster ?? false,
            },
          }
        : {}),
      ...options.overrides,
      // Every test client connects from 127.0.0.1, so the per-address cap (tested on its own in
      // transport-limits.test.ts) is raised to what a test opens, like a proxy's would be.
      transport: { maxConnectionsPerAddress: 1_024, ...options.overrides?.transport },
    },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const line = String(chunk);
      logs.push(line);
      recordLogLine(line);
      done();
    },
  });
  const logger = createLogger("debug", sink);
  const store: Store | undefined =
    options.store ??
    (redis
      ? await createStore({
          kind: "redis",
          url: options.redisUrl ?? "",
          cluster: options.redisCluster ?? false,
          clock: systemLike(options),
          // Outage tests stop Redis on purpose; the server reports what it refuses.
          onError: () => {},
        })
      : undefined);
  const app = await startGatehouse({
    config,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(store ? { store } : {}),
  });
  const pki = await ensureDevPki(devPkiDir(config), { trustDomain: TRUST_DOMAIN });
  let foreignCa: { certPem: string; keyPem: string } | undefined;

  const toTls = (pair: { certPem: string; keyPem: string }): ClientTls => ({
    cert: Buffer.from(pair.certPem),
    key: Buffer.from(pair.keyPem),
    ca: Buffer.from(pki.ca.certPem),
  });
  const grpcAddress = `127.0.0.1:${app.grpcPort}`;
  /** After everything this server's tests wrote, its audit chain must still verify. */
  const checkAuditChain = async () => {
    if (options.tampersWithAudit) return;
    try {
      await app.audit.flush();
      const spec = roleCertificateSpec(TRUST_DOMAIN, { role: "admin", name: "audit-check" });
      const tls = toTls(await issueCertificate({ ca: pki.ca, ...spec, validityDays: 1 }));
      const client = createGrpcClient(AuditService, { address: grpcAddress, tls });
      try {
        const verdict = await client.verifyAuditChain({});
        const entries = Number(verdict.entriesChecked);
        recordAuditChain(
          verdict.ok
            ? { ok: true, entries }
            : {
                ok: false,
                entries,
                detail: `broken at ${verdict.brokenSequence}: ${AuditChainProblem[verdict.problem]}`,
              },
        );
      } finally {
        client.close();
      }
    } catch (error) {
      recordAuditChain({ ok: false, entries: 0, detail: `unchecked: ${String(error)}` });
    }
  };
  const stop = async () => {
    await checkAuditChain();
    await app.stop();
    await store?.close();
  };
  return {
    app,
    dataDir,
    logs,
    caPem: pki.ca.certPem,
    grpcAddress,
    connectUrl: `https://127.0.0.1:${app.connectPort}`,
    metricsUrl: `http://127.0.0.1:${app.metricsPort}`,
    async clientTls(identity) {
      const spec = roleCertificateSpec(TRUST_DOMAIN, identity);
      return toTls(await issueCertificate({ ca: pki.ca, ...spec, validityDays: 1 }));
    },
    async foreignTls(identity) {
      foreignCa ??= await createCertificateAuthority({ commonName: "foreign", validityDays: 1 });
      const spec = roleCertificateSpec(TRUST_DOMAIN, identity);
      return toTls(await issueCertificate({ ca: foreignCa, ...spec, validityDays: 1 }));
    },
    stop,
    async dispose() {
      await stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function systemLike(options: TestGatehouseOptions): Clock {
  return options.clock ?? { now: () => Date.now() };
}
