import type { Clock } from "../../clock.js";
import type { Store } from "../ports.js";
import { MemoryAuditLog } from "./audit.js";
import { createMemoryEnvelopeStore } from "./envelopes.js";
import { createMemoryInvalidationBus } from "./events.js";
import { ensureDataDir, JsonFile } from "./json-file.js";
import { createMemoryNonceStore } from "./nonces.js";
import { createMemoryOneTimeStore } from "./one-time.js";
import { createMemoryRateLimiter } from "./rate-limits.js";
import { MemoryRegistry, parseRegistrySnapshot } from "./registry.js";
import { MemoryRevocations, parseRevocationsSnapshot } from "./revocations.js";
import { MemorySigningKeys, parseSigningKeysSnapshot } from "./signing-keys.js";
import { noPersistence } from "./snapshot.js";

export interface MemoryStoreOptions {
  /** Drives every TTL, so tests can expire records by moving a manual clock. */
  readonly clock: Clock;
  /**
   * Where the registry, revocations and signing keys persist (created 0700 if missing;
   * files are 0600). Without it everything is lost on exit. Challenges, passes and
   * nonces always stay in memory: they live minutes and a restart may drop them.
   * One process per directory: two stores sharing it would overwrite each other.
   */
  readonly dataDir?: string;
}

/**
 * The embedded, zero-setup store for a single replica. Atomicity comes from JS being
 * single-threaded: every check-and-set runs without an await in between.
 */
export async function createMemoryStore(options: MemoryStoreOptions): Promise<Store> {
  const { clock, dataDir } = options;
  const base = {
    challenges: createMemoryOneTimeStore<unknown>(clock),
    passes: createMemoryOneTimeStore<unknown>(clock),
    nonces: createMemoryNonceStore(clock),
    rateLimits: createMemoryRateLimiter(clock),
    envelopes: createMemoryEnvelopeStore(clock),
    events: createMemoryInvalidationBus(),
    ping: () => Promise.resolve(),
  };

  if (dataDir === undefined) {
    const audit = await MemoryAuditLog.open();
    return {
      ...base,
      registry: new MemoryRegistry(noPersistence),
      revocations: new MemoryRevocations(clock, noPersistence),
      signingKeys: new MemorySigningKeys(noPersistence),
      audit,
      close: () => audit.close(),
    };
  }

  await ensureDataDir(dataDir);
  const registryFile = new JsonFile(dataDir, "registry.json");
  const revocationsFile = new JsonFile(dataDir, "revocations.json");
  const signingKeysFile = new JsonFile(dataDir, "signing-keys.json");
  const [registryData, revocationsData, signingKeysData] = await Promise.all([
    registryFile.read(parseRegistrySnapshot),
    revocationsFile.read(parseRevocationsSnapshot),
    signingKeysFile.read(parseSigningKeysSnapshot),
  ]);

  // Each port persists by handing its file a snapshot of itself.
  const registry: MemoryRegistry = new MemoryRegistry(
    () => registryFile.save(() => registry.snapshot()),
    registryData,
  );
  const revocations: MemoryRevocations = new MemoryRevocations(
    clock,
    () => revocationsFile.save(() => revocations.snapshot()),
    revocationsData,
  );
  const signingKeys: MemorySigningKeys = new MemorySigningKeys(
    () => signingKeysFile.save(() => signingKeys.snapshot()),
    signingKeysData,
  );
  // The audit log appends a line per entry (audit.log), created on the first one.
  const audit = await MemoryAuditLog.open(dataDir);

  return {
    ...base,
    registry,
    revocations,
    signingKeys,
    audit,
    // Waits for writes in flight so a restart right after close sees them.
    close: async () => {
      await Promise.all([
        registryFile.flush(),
        revocationsFile.flush(),
        signingKeysFile.flush(),
        audit.close(),
      ]);
    },
  };
}
