import type * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type * as grpc from "@grpc/grpc-js";
import { createApprovalServer } from "../approval/index.js";
import { createPlatformAttestationVerifier } from "../attestation/platform/index.js";
import { loadAuditKey } from "../audit/key.js";
import { type Audit, createAuditWriter } from "../audit/writer.js";
import { createChallengeKinds } from "../challenges/index.js";
import { type Clock, systemClock } from "../clock.js";
import {
  type GatehouseConfig,
  JWKS_MAX_AGE_SECONDS,
  KEY_PROPAGATION_BOUND_SECONDS,
} from "../config/index.js";
import { createKeyRing, type KeyAddedReason, type KeyStatus } from "../crypto/key-ring.js";
import { decodeEncryptionKey, sealedKeyStore } from "../crypto/sealed-key-store.js";
import { domainVerifierFromConfig } from "../domains/from-config.js";
import { createDpopVerifier } from "../dpop/index.js";
import { createClientCertificateCheck } from "../identity/client-certificate.js";
import { createCallerResolver } from "../identity/forwarded.js";
import { createSignedRequestAuthenticator } from "../identity/signed-request.js";
import { answerScrapes } from "../observability/cluster-metrics.js";
import { registerStateMetrics } from "../observability/gauges.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { createGatehouseMetrics } from "../observability/metrics.js";
import { createMetricsListener, type MetricsListener } from "../observability/metrics-listener.js";
import { serverReadiness } from "../observability/readiness.js";
import { observeCalls, type Transport } from "../observability/rpc-metrics.js";
import { instrumentStore } from "../observability/store-metrics.js";
import {
  cacheLookupCounter,
  decisionCounter,
  invalidationCounter,
} from "../observability/verify-metrics.js";
import { createConnectServer } from "../server/connect.js";
import { createDispatch } from "../server/dispatch.js";
import { createGrpcServer, grpcServerCredentials } from "../server/grpc.js";
import { createIntrospection } from "../server/introspection.js";
import { createAuditService } from "../services/audit/index.js";
import { createAuthzService } from "../services/authz/index.js";
import { createAbuseControl } from "../services/gate/abuse/index.js";
import { createGateService } from "../services/gate/index.js";
import { runtimeBoundsByKind } from "../services/gate/submit-steps/runtime.js";
import { createGrantService } from "../services/grants/index.js";
import { createRegistryService } from "../services/registry/index.js";
import { createVerifyService } from "../services/verify/index.js";
import { createStore } from "../store/index.js";
import type { Store } from "../store/ports.js";
import { VerifyCache } from "../verify/cache.js";
import { rotationIntervalFor, signingKeysFor } from "./roles.js";
import { watchStoreHealth } from "./store-health.js";
import { loadTlsMaterial } from "./tls.js";
import { isWorkerProcess } from "./workers.js";

export interface StartOptions {
  readonly config: GatehouseConfig;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** An already-open store (tests); otherwise the configured one is opened and owned. */
  readonly store?: Store;
}

export interface Gatehouse {
  readonly grpcPort: number;
  readonly connectPort: number;
  /** The passkey approval page's origin (`https://…`); undefined when it is disabled. */
  readonly approvalOrigin: string | undefined;
  /** The plain-HTTP metrics and health listener's port; undefined when it is disabled. */
  readonly metricsPort: number | undefined;
  readonly store: Store;
  /** The audit writer (tests flush it before reading the log). */
  readonly audit: Audit;
  /** Stops accepting calls, drains in-flight ones (bounded by shutdownGraceMs), closes. */
  stop(): Promise<void>;
}

/** How long verifiers may cache a decision: short, so revocation bites. */
const DECISION_CACHE_SECONDS = 30;

/** Composes Gatehouse from its parts and serves it on both transports. */
export async function startGatehouse(options: StartOptions): Promise<Gatehouse> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.log.level);
  const tls = await loadTlsMaterial(config);
  const opened =
    options.store ??
    (await createStore(
      config.store.kind === "redis"
        ? { ...config.store, clock, onError: (err) => logger.warn({ err }, "redis error") }
        : { kind: "embedded", dataDir: config.dataDir, clock, logger },
    ));
  const metrics = config.metrics.enabled ? createGatehouseMetrics() : undefined;
  // Every service reads and writes through the measured store (a decorator, store-metrics.ts).
  const store = metrics ? instrumentStore(opened, metrics) : opened;
  const keys = createKeyRing(keyRingOptions(config, store, clock, logger));
  let audit: Audit;
  let auditKey: Awaited<ReturnType<typeof loadAuditKey>>;
  try {
    await keys.start(); // load (or generate) now: fails closed on unreadable keys
    auditKey = await loadAuditKey(store.audit, clock, sealingKey(config));
    audit = createAuditWriter({
      log: store.audit,
      key: auditKey,
      clock,
      logger,
      denialWindowMs: config.audit.denialWindowSeconds * 1000,
      denialMaxKeys: config.audit.denialMaxKeys,
    });
  } catch (error) {
    keys.stop();
    if (!options.store) await store.close();
    throw error;
  }

  const { tokens, challenges } = config;
  // Where the sidecar is reached: the URLs the metadata advertises, and DPoP's token `htu`.
  const publicUrl = config.sidecar.publicUrl ?? config.issuer;
  const kinds = createChallengeKinds(config);
  const platformAttestation = await createPlatformAttestationVerifier(config, clock);
  // Verify's in-process caches, kept fresh by the store's invalidation bus (cache.ts).
  const cache =
    config.verify.cacheTtlMs > 0
      ? new VerifyCache({
          clock,
          ttlMs: config.verify.cacheTtlMs,
          maxEntries: config.verify.cacheMaxEntries,
          ...(metrics && { onLookup: cacheLookupCounter(metrics) }),
        })
      : undefined;
  const countEvent = metrics && invalidationCounter(metrics);
  let unsubscribe = noop;
  try {
    unsubscribe = await store.events.subscribe((event) => {
      countEvent?.(event);
      cache?.onEvent(event);
      // Another replica added a signing key (or messages may have been lost): reload now,
      // so the key is in this replica's JWKS within KEY_PROPAGATION_BOUND_SECONDS.
      if (event.kind === "signing_keys" || event.kind === "all") {
        keys.reload().catch((err: unknown) => logger.warn({ err }, "signing key reload failed"));
      }
    });
  } catch (error) {
    keys.stop();
    if (!options.store) await store.close();
    throw error;
  }
  const verifyDeps = {
    clock,
    keys,
    registry: cache ? cache.registry(store.registry) : store.registry,
    revocations: cache ? cache.revocations(store.revocations) : store.revocations,
    ...(cache ? { cache } : {}),
    envelopes: store.envelopes,
    rateLimits: store.rateLimits,
    grants: cache ? cache.grants(store.grants) : store.grants,
    dpop: createDpopVerifier({
      clock,
      nonces: store.nonces,
      settings: {
        maxAgeSeconds: config.dpop.maxAgeSeconds,
        clockSkewSeconds: tokens.clockSkewSeconds,
        ...(config.dpop.nonceSecret === undefined ? {} : { nonceSecret: config.dpop.nonceSecret }),
      },
    }),
    settings: {
      issuer: config.issuer,
      clockSkewSeconds: tokens.clockSkewSeconds,
      maxTokenTtlSeconds: tokens.maxTtlSeconds,
      maxCacheTtlSeconds: DECISION_CACHE_SECONDS,
    },
  };
  // The approval page decides grants (writes), so a verifier never serves it.
  const approvalServed = config.approval.enabled && config.role !== "verifier";
  // The approval page has its own listener; invitations link to its origin.
  const approval = approvalServed
    ? createApprovalServer({
        store,
        clock,
        audit,
        logger,
        ...(config.approval.origin === undefined ? {} : { origin: config.approval.origin }),
        tls: { cert: tls.cert, key: tls.key },
        listen: config.approval,
        transport: config.transport,
        sessionTtlMs: config.approval.sessionTtlSeconds * 1000,
        denialBackoffBaseMs: config.grants.denialBackoffBaseSeconds * 1000,
        denialBackoffMaxMs: config.grants.denialBackoffMaxSeconds * 1000,
      })
    : undefined;
  const bindings = [
    createGateService({
      store,
      clock,
      keys,
      kinds: kinds.kinds,
      abuse: createAbuseControl({ store, clock, kinds: kinds.kinds, limits: config.limits }),
      ...(platformAttestation ? { platformAttestation } : {}),
      verify: verifyDeps,
      audit,
      settings: {
        issuer: config.issuer,
        publicUrl,
        challengeTtlSeconds: challenges.ttlSeconds,
        passTtlSeconds: challenges.passTtlSeconds,
        defaultTokenTtlSeconds: tokens.defaultTtlSeconds,
        maxTokenTtlSeconds: tokens.maxTtlSeconds,
        clockSkewSeconds: tokens.clockSkewSeconds,
        assertionMaxLifetimeSeconds: tokens.assertionMaxLifetimeSeconds,
        runtime: {
          toleranceMs: config.runtime.toleranceMs,
          bounds: runtimeBoundsByKind(config.runtime),
        },
      },
    }),
    createVerifyService({
      ...verifyDeps,
      audit,
      jwksMaxAgeSeconds: JWKS_MAX_AGE_SECONDS,
      publicUrl,
      ...(metrics && { onDecision: decisionCounter(metrics, "verify") }),
    }),
    // Envoy ext_authz Check: the same pipeline and settings as Verify.
    createAuthzService({
      ...verifyDeps,
      audit,
      ...(metrics && { onDecision: decisionCounter(metrics, "check") }),
    }),
    createRegistryService({
      store,
      clock,
      maxTokenTtlSeconds: tokens.maxTtlSeconds,
      clockSkewSeconds: tokens.clockSkewSeconds,
      keys,
      signingAlg: tokens.signingAlg,
      keyPublicationDelaySeconds: config.keys.publicationDelaySeconds,
      audit,
      domainVerifier: await domainVerifierFromConfig(config.domains),
      domainVerificationTtlSeconds: config.domains.verificationTtlSeconds,
    }),
    createGrantService({
      store,
      clock,
      audit,
      settings: {
        maxPending: config.grants.maxPending,
        pendingTtlMs: config.grants.pendingTtlSeconds * 1000,
        defaultDurationMs: config.grants.defaultDurationSeconds * 1000,
        maxDurationMs: config.grants.maxDurationSeconds * 1000,
      },
      ...(approval && {
        approval: {
          origin: () => approval.origin(),
          inviteTtlMs: config.approval.inviteTtlSeconds * 1000,
        },
      }),
    }),
    createAuditService({
      log: store.audit,
      audit,
      publicKeys: new Map([[auditKey.kid, auditKey.publicKey]]),
      maxMessageBytes: config.limits.maxMessageBytes,
    }),
  ];
  const authenticate = createSignedRequestAuthenticator({
    store,
    clock,
    windowMs: config.operators.requestSignatureWindowSeconds * 1000,
  });
  // One dispatch per transport, so the RPC metrics carry the transport without a per-call read.
  const dispatchFor = (name: Transport) =>
    createDispatch({
      bindings,
      logger,
      authenticate,
      role: config.role,
      ...(metrics && { observe: observeCalls(metrics, name) }),
    });
  const introspection = createIntrospection(bindings);
  // Certificates presented directly and those a proxy forwards pass the same checks. A direct
  // one's validity is read on the system clock, the one its TLS handshake was checked on.
  const trust = { trustDomain: config.trustDomain, ca: tls.ca, clock };
  const transport = {
    tls,
    certificates: createClientCertificateCheck({ ...trust, clock: systemClock }),
    maxMessageBytes: config.limits.maxMessageBytes,
    transport: config.transport,
    resolveCaller: createCallerResolver(config.proxy, trust),
  };

  const grpcServer = createGrpcServer({
    ...transport,
    methods: dispatchFor("grpc"),
    extras: introspection.addToServer,
  });
  const grpcPort = await bindGrpc(grpcServer, config.grpc, grpcServerCredentials(tls));
  const connectServer = createConnectServer({ ...transport, methods: dispatchFor("connect") });
  const sessions = trackSessions(connectServer);
  const connectPort = await listen(connectServer, config.connect);
  await approval?.start();
  let draining = false;
  let metricsListener: MetricsListener | undefined;
  let stopAnswering = noop;
  let storeHealth: { stop(): void } | undefined;

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    // Not ready from now on (orchestrators stop routing here); live until the very end.
    draining = true;
    storeHealth?.stop();
    introspection.setServing(false);
    keys.stop();
    const grace = setTimeout(() => {
      grpcServer.forceShutdown();
      for (const session of sessions) session.destroy();
      approval?.forceClose();
    }, config.shutdownGraceMs).unref();
    await Promise.all([
      new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
      new Promise<void>((resolve) => {
        connectServer.close(() => resolve());
        for (const session of sessions) session.close();
      }),
      approval?.close(),
    ]);
    clearTimeout(grace);
    await kinds.close(); // after the drain: in-flight answer checks have finished
    await audit.flush(); // queued hot-path events reach the log before the store closes
    unsubscribe();
    stopAnswering();
    await metricsListener?.close();
    if (!options.store) await store.close();
    logger.info("gatehouse stopped");
  };
  if (metrics) {
    const readiness = serverReadiness({ store, keys, draining: () => draining });
    registerStateMetrics(metrics.registry, {
      clock,
      keys,
      rotationIntervalMs: config.keys.rotationIntervalSeconds * 1000,
      audit,
      readiness,
    });
    try {
      // A `--workers` worker answers its primary, which alone listens (cluster-metrics.ts).
      if (isWorkerProcess()) stopAnswering = answerScrapes(metrics.registry, readiness);
      else {
        metricsListener = await createMetricsListener({
          listen: config.metrics,
          registry: metrics.registry,
          readiness,
        });
      }
    } catch (error) {
      await stop(); // the mTLS ports are bound already: release them
      throw error;
    }
  }
  introspection.setServing(true);
  storeHealth = watchStoreHealth({
    ping: () => store.ping(),
    setServing: introspection.setServing,
    logger,
  });
  logger.info(
    {
      grpcPort,
      connectPort,
      metricsPort: metricsListener?.port,
      store: config.store.kind,
      role: config.role,
    },
    "gatehouse serving",
  );
  return {
    grpcPort,
    connectPort,
    approvalOrigin: approval?.origin(),
    metricsPort: metricsListener?.port,
    store: opened,
    audit,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}

function noop(): void {}

/** The audit key is sealed at rest where signing keys are (Redis with an encryption key). */
function sealingKey(config: GatehouseConfig): Buffer | undefined {
  const { encryptionKey } = config.keys;
  return encryptionKey !== undefined && config.store.kind === "redis"
    ? decodeEncryptionKey(encryptionKey)
    : undefined;
}

/**
 * Keys in Redis (outside the data dir) are sealed when an encryption key is configured;
 * serve mode requires one (a config problem), dev mode only warns.
 */
function keyRingOptions(config: GatehouseConfig, store: Store, clock: Clock, logger: Logger) {
  const { keys, tokens } = config;
  let signingKeys = signingKeysFor(config.role, store.signingKeys);
  if (keys.encryptionKey !== undefined && config.store.kind === "redis") {
    signingKeys = sealedKeyStore(signingKeys, decodeEncryptionKey(keys.encryptionKey));
  } else if (config.store.kind === "redis") {
    logger.warn("signing keys are stored in redis unencrypted: set GATEHOUSE_KEY_ENCRYPTION_KEY");
  }
  return {
    store: signingKeys,
    clock,
    alg: tokens.signingAlg,
    rotationIntervalMs: rotationIntervalFor(config.role, keys.rotationIntervalSeconds) * 1000,
    // Config refuses a delay below the JWKS cache age plus the propagation bound.
    publicationDelayMs: config.keys.publicationDelaySeconds * 1000,
    // The fallback when a rotation's bus message is lost: the propagation bound.
    maintenanceIntervalMs: KEY_PROPAGATION_BOUND_SECONDS * 1000,
    announce: () => store.events.publish({ kind: "signing_keys" }),
    // A superseded key verifies every token it signed: the longest lifetime plus the skew.
    retentionMs: (tokens.maxTtlSeconds + tokens.clockSkewSeconds) * 1000,
    events: {
      keyAdded: (key: KeyStatus, reason: KeyAddedReason) =>
        logger.info(
          {
            kid: key.kid,
            alg: key.alg,
            activateAt: new Date(key.activateAt).toISOString(),
            reason,
          },
          "signing key added",
        ),
      maintenanceFailed: (err: unknown) => logger.warn({ err }, "signing key maintenance failed"),
    },
  };
}

function bindGrpc(
  server: grpc.Server,
  endpoint: { host: string; port: number },
  credentials: grpc.ServerCredentials,
): Promise<number> {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${endpoint.port}`, credentials, (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

function listen(
  server: http2.Http2SecureServer,
  endpoint: { host: string; port: number },
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Open HTTP/2 sessions, so shutdown can close them (server.close waits for them). */
function trackSessions(server: http2.Http2SecureServer): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return sessions;
}
