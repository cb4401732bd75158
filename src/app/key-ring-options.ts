import type { Clock } from "../clock.js";
import { type GatehouseConfig, KEY_PROPAGATION_BOUND_SECONDS } from "../config/index.js";
import type { KeyAddedReason, KeyRingOptions, KeyStatus } from "../crypto/key-ring.js";
import { decodeEncryptionKey, sealedKeyStore } from "../crypto/sealed-key-store.js";
import type { Logger } from "../observability/logger.js";
import type { Store } from "../store/ports.js";
import { rotationIntervalFor, signingKeysFor } from "./roles.js";

/**
 * The key ring's settings and collaborators. Keys in Redis (outside the data dir) are sealed
 * when an encryption key is configured; serve mode requires one (a config problem), dev
 * mode only warns.
 */
export function keyRingOptions(
  config: Pick<GatehouseConfig, "keys" | "tokens" | "store" | "role">,
  store: Store,
  clock: Clock,
  logger: Logger,
): KeyRingOptions {
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
    publicationDelayMs: keys.publicationDelaySeconds * 1000,
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
