import type { Clock } from "../../clock.js";
import type { Store } from "../ports.js";
import { MemoryApprovers, parseApproversSnapshot } from "./approvers.js";
import { MemoryAuditLog } from "./audit.js";
import { createMemoryEnvelopeStore } from "./envelopes.js";
import { createMemoryInvalidationBus } from "./events.js";
import { MemoryGrants, parseGrantsSnapshot } from "./grants.js";
import { createMemoryIssuedTokenStore } from "./issued-tokens.js";
import { ensureDataDir, JsonFile } from "./json-file.js";
import { createMemoryNonceStore } from "./nonces.js";
import { createMemoryOneTimeStore } from "./one-time.js";
import { createMemoryRateLimiter } from "./rate-limits.js";
import { MemoryRegistry, parseRegistrySnapshot } from "./registry.js";
import { MemoryRevocations, parseRevocationsSnapshot } from "./revocations.js";
import { createMemorySessionStore } from "./sessions.js";
import { MemorySigningKeys, parseSigningKeysSnapshot } from "./signing-keys.js";
import { noPersistence } from "./snapshot.js";

export interface MemoryStoreOptions {
  /** Drives every TTL, so tests can expire records by moving a manual clock. */
  readonly clock: Clock;
  /**
   * Where the registry, revocations, signing keys, grants and approvers persist (created
   * 0700 if missing; files are 0600). Without it everything is lost on exit. Challenges,
   * passes, nonces, approval tickets and sessions always stay in memory: they live minutes
   * and a restart may drop them.
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
    approvalTickets: createMemoryOneTimeStore<unknown>(clock),
    sessions: createMemorySessionStore<unknown>(clock),
    issuedTokens: createMemoryIssuedTokenStore(clock),
    ping: () => Promise.resolve(),
  };

  if (dataDir === undefined) {
    const audit = await MemoryAuditLog.open();
    return {
      ...base,
      registry: new MemoryRegistry(noPersistence),
      revocations: new MemoryRevocations(clock, noPersistence),
      signingKeys: new MemorySigningKeys(noPersistence),
      grants: new MemoryGrants(noPersistence),
      approvers: new MemoryApprovers(noPersistence),
      audit,
      close: () => audit.close(),
    };
  }

  await ensureDataDir(dataDir);
  const registryFile = new JsonFile(dataDir, "registry.json");
  const revocationsFile = new JsonFile(dataDir, "revocations.json");
  const signingKeysFile = new JsonFile(dataDir, "signing-keys.json");
  const grantsFile = new JsonFile(dataDir, "grants.json");
  const approversFile = new JsonFile(dataDir, "approvers.json");
  const [registryData, revocationsData, signingKeysData, grantsData, approversData] =
    await Promise.all([
      registryFile.read(parseRegistrySnapshot),
      revocationsFile.read(parseRevocationsSnapshot),
      signingKeysFile.read(parseSigningKeysSnapshot),
      grantsFile.read(parseGrantsSnapshot),
      approversFile.read(parseApproversSnapshot),
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
  const grants: MemoryGrants = new MemoryGrants(
    () => grantsFile.save(() => grants.snapshot()),
    grantsData,
  );
  const approvers: MemoryApprovers = new MemoryApprovers(
    () => approversFile.save(() => approvers.snapshot()),
    approversData,
  );
  // The audit log appends a line per entry (audit.log), created on the first one.
  const audit = await MemoryAuditLog.open(dataDir);

  return {
    ...base,
    registry,
    revocations,
    signingKeys,
    grants,
    approvers,
    audit,
    // Waits for writes in flight so a restart right after close sees them.
    close: async () => {
      await Promise.all([
        registryFile.flush(),
        revocationsFile.flush(),
        signingKeysFile.flush(),
        grantsFile.flush(),
        approversFile.flush(),
        audit.close(),
      ]);
    },
  };
}
