import { type ApprovalServer, createApprovalServer } from "../approval/index.js";
import { approvalSettings } from "../approval/settings.js";
import { createPlatformAttestationVerifier } from "../attestation/platform/index.js";
import { type AuditKey, loadAuditKey } from "../audit/key.js";
import { auditWriterSettings } from "../audit/settings.js";
import { type Audit, createAuditWriter } from "../audit/writer.js";
import { createChallengeKinds } from "../challenges/index.js";
import { type Clock, systemClock } from "../clock.js";
import { type GatehouseConfig, JWKS_MAX_AGE_SECONDS } from "../config/index.js";
import { createKeyRing, type KeyRing } from "../crypto/key-ring.js";
import { decodeEncryptionKey } from "../crypto/sealed-key-store.js";
import { domainVerifierFromConfig } from "../domains/from-config.js";
import { createDpopVerifier } from "../dpop/index.js";
import { dpopSettings } from "../dpop/settings.js";
import { createClientCertificateCheck } from "../identity/client-certificate.js";
import { createCallerResolver } from "../identity/forwarded.js";
import { createPeerIdentities } from "../identity/peer-identity.js";
import { createSignedRequestAuthenticator } from "../identity/signed-request.js";
import type { Logger } from "../observability/logger.js";
import type { GatehouseMetrics } from "../observability/metrics.js";
import { observeCalls, type Transport } from "../observability/rpc-metrics.js";
import { instrumentStore } from "../observability/store-metrics.js";
import {
  countCacheLookups,
  decisionCounter,
  invalidationCounter,
} from "../observability/verify-metrics.js";
import { createDispatch, type DispatchMethod } from "../server/dispatch.js";
import { createInMemoryTransport, type InMemoryTransport } from "../server/in-memory.js";
import type { TlsMaterial } from "../server/tls.js";
import { createAuditService } from "../services/audit/index.js";
import { createAuthzService } from "../services/authz/index.js";
import { createAbuseControl } from "../services/gate/abuse/index.js";
import { createGateService } from "../services/gate/index.js";
import { gateSettings, publicUrlOf } from "../services/gate/settings.js";
import { createGrantService } from "../services/grants/index.js";
import { grantSettings, inviteTtlMs } from "../services/grants/settings.js";
import { createRegistryService } from "../services/registry/index.js";
import { registrySettings } from "../services/registry/settings.js";
import type { ServiceBinding } from "../services/types.js";
import { createVerifyService } from "../services/verify/index.js";
import type { Store } from "../store/ports.js";
import { VerifyCache } from "../verify/cache.js";
import { verifySettings } from "../verify/settings.js";
import { keyRingOptions } from "./key-ring-options.js";

export interface ComposeOptions {
  readonly config: GatehouseConfig;
  /** An open store; the composition reads and writes through it, and never closes it. */
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The server certificate and CA: client certificates are checked against this CA. */
  readonly tls: TlsMaterial;
  /** Metrics, when they are served: the store and the calls are measured. */
  readonly metrics?: GatehouseMetrics;
}

/** Gatehouse's services, composed and running, with no socket open. */
export interface Composed {
  /** The measured store (the one passed in, behind the metrics decorator when enabled). */
  readonly store: Store;
  readonly keys: KeyRing;
  readonly audit: Audit;
  readonly bindings: readonly ServiceBinding[];
  /** The dispatcher's methods; `transport` labels the RPC metrics. */
  methods(transport?: Transport): DispatchMethod[];
  /** A transport without sockets over `methods()`, with the network transports' checks. */
  inMemory(): InMemoryTransport;
  /** The approval page, built but not listening; undefined when it is not served. */
  readonly approval: ApprovalServer | undefined;
  /**
   * Stops background work (key maintenance). Called first when draining: in-flight calls
   * still complete.
   */
  quiesce(): void;
  /** After the drain: releases worker threads, flushes the audit log, unsubscribes. */
  close(): Promise<void>;
}

/**
 * Builds every service from the configuration and the injected store, clock and logger:
 * the composition root. Each service maps the settings it reads (its `settings.ts`); nothing
 * here listens, so tests and the bench can call the methods in memory (src/server/in-memory.ts).
 */
export async function composeGatehouse(options: ComposeOptions): Promise<Composed> {
  const { config, clock, logger, tls, metrics } = options;
  // Read before anything starts: a missing JWKS or CA file leaves nothing to stop.
  const platformAttestation = await createPlatformAttestationVerifier(config, clock);
  const domainVerifier = await domainVerifierFromConfig(config.domains);
  // Every service reads and writes through the measured store (a decorator, store-metrics.ts).
  const store = metrics ? instrumentStore(options.store, metrics) : options.store;
  const keys = createKeyRing(keyRingOptions(config, store, clock, logger));
  let audit: Audit;
  let auditKey: AuditKey;
  let unsubscribe = noop;
  // Verify's in-process caches, kept fresh by the store's invalidation bus (cache.ts).
  const cache =
    config.verify.cacheTtlMs > 0
      ? new VerifyCache({
          clock,
          ttlMs: config.verify.cacheTtlMs,
          maxEntries: config.verify.cacheMaxEntries,
        })
      : undefined;
  if (metrics && cache) countCacheLookups(metrics, () => cache.lookupCounts());
  try {
    await keys.start(); // load (or generate) now: fails closed on unreadable keys
    auditKey = await loadAuditKey(store.audit, clock, sealingKey(config));
    audit = createAuditWriter({
      log: store.audit,
      key: auditKey,
      clock,
      logger,
      ...auditWriterSettings(config),
    });
    const countEvent = metrics && invalidationCounter(metrics);
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
    throw error;
  }

  const publicUrl = publicUrlOf(config);
  const kinds = createChallengeKinds(config);
  const verifyDeps = {
    clock,
    keys,
    registry: cache ? cache.registry(store.registry) : store.registry,
    revocations: cache ? cache.revocations(store.revocations) : store.revocations,
    ...(cache ? { cache } : {}),
    envelopes: store.envelopes,
    rateLimits: store.rateLimits,
    grants: cache ? cache.grants(store.grants) : store.grants,
    dpop: createDpopVerifier({ clock, nonces: store.nonces, settings: dpopSettings(config) }),
    settings: verifySettings(config),
  };
  // The approval page decides grants (writes), so a verifier never serves it.
  const approval =
    config.approval.enabled && config.role !== "verifier"
      ? createApprovalServer({
          store,
          clock,
          audit,
          logger,
          tls: { cert: tls.cert, key: tls.key },
          ...approvalSettings(config),
        })
      : undefined;
  const abuse = createAbuseControl({ store, clock, kinds: kinds.kinds, limits: config.limits });
  const bindings = [
    createGateService({
      store,
      clock,
      keys,
      kinds: kinds.kinds,
      abuse,
      ...(platformAttestation ? { platformAttestation } : {}),
      verify: verifyDeps,
      audit,
      settings: gateSettings(config),
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
      keys,
      audit,
      domainVerifier,
      ...registrySettings(config),
    }),
    createGrantService({
      store,
      clock,
      audit,
      settings: grantSettings(config),
      ...(approval && {
        approval: { origin: () => approval.origin(), inviteTtlMs: inviteTtlMs(config) },
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
  // Certificates presented directly and those a proxy forwards pass the same checks. A direct
  // one's validity is read on the system clock, the one its TLS handshake was checked on.
  const trust = { trustDomain: config.trustDomain, ca: tls.ca, clock };
  // One per-connection identity cache for every transport.
  const peers = createPeerIdentities(
    createClientCertificateCheck({ ...trust, clock: systemClock }),
  );
  const resolveCaller = createCallerResolver(config.proxy, trust);
  // One dispatch per transport, so the RPC metrics carry the transport without a per-call read.
  const methods = (transport?: Transport) =>
    createDispatch({
      bindings,
      logger,
      peers,
      resolveCaller,
      authenticate,
      rateLimits: abuse.rateLimits,
      role: config.role,
      ...(metrics && transport && { observe: observeCalls(metrics, transport) }),
    });
  return {
    store,
    keys,
    audit,
    bindings,
    methods,
    inMemory: () => createInMemoryTransport({ methods: methods() }),
    approval,
    quiesce: () => keys.stop(),
    async close() {
      await kinds.close(); // after the drain: in-flight answer checks have finished
      await audit.flush(); // queued hot-path events reach the log before the store closes
      unsubscribe();
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
