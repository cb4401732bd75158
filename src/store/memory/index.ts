import type { Clock } from "../../clock.js";
import type { Logger } from "../../observability/logger.js";
import { withFaultMapping } from "../faults.js";
import type { Store } from "../ports.js";
import { MemoryApprovers, parseApproversSnapshot } from "./approvers.js";
import { MemoryAuditLog } from "./audit.js";
import { openDataDir, removeStaleTempFiles } from "./data-dir.js";
import type { DataDirLock } from "./data-dir-lock.js";
import { type DataFs, isDiskFault, nodeFs } from "./data-fs.js";
import { createMemoryEnvelopeStore } from "./envelopes.js";
import { createMemoryInvalidationBus } from "./events.js";
import { MemoryGrants, parseGrantsSnapshot } from "./grants.js";
import { createMemoryIssuedTokenStore } from "./issued-tokens.js";
import { JsonFile } from "./json-file.js";
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
   * One process per directory: a lock file (gatehouse.lock) refuses a second one.
   */
  readonly dataDir?: string;
  /** The file system under `dataDir` (tests inject a failing one). */
  readonly fs?: DataFs;
  /** Told what start-up repaired: a taken-over lock, temp files, a torn audit line. */
  readonly logger?: Pick<Logger, "warn">;
}

/** The ports persisted to the data directory. */
type PersistedPort = "registry" | "revocations" | "signingKeys" | "grants" | "approvers" | "audit";

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

  const fsys = options.fs ?? nodeFs;
  const lock = await openDataDir(fsys, dataDir);
  if (lock.tookOverFrom) {
    options.logger?.warn(
      { dataDir, previous: lock.tookOverFrom },
      "took over the data directory lock of a process that no longer runs",
    );
  }
  const removed = await removeStaleTempFiles(fsys, dataDir);
  if (removed > 0) {
    options.logger?.warn({ dataDir, files: removed }, "removed temp files of interrupted saves");
  }
  try {
    return withFaultMapping(
      await openFiles(fsys, dataDir, base, clock, options, lock),
      isDiskFault,
    );
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw error;
  }
}

async function openFiles(
  fsys: DataFs,
  dataDir: string,
  base: Omit<Store, PersistedPort | "close">,
  clock: Clock,
  options: MemoryStoreOptions,
  lock: DataDirLock,
): Promise<Store> {
  const registryFile = new JsonFile(fsys, dataDir, "registry.json", parseRegistrySnapshot);
  const revocationsFile = new JsonFile(fsys, dataDir, "revocations.json", parseRevocationsSnapshot);
  const signingKeysFile = new JsonFile(
    fsys,
    dataDir,
    "signing-keys.json",
    parseSigningKeysSnapshot,
  );
  const grantsFile = new JsonFile(fsys, dataDir, "grants.json", parseGrantsSnapshot);
  const approversFile = new JsonFile(fsys, dataDir, "approvers.json", parseApproversSnapshot);
  const [registryData, revocationsData, signingKeysData, grantsData, approversData] =
    await Promise.all([
      registryFile.read(),
      revocationsFile.read(),
      signingKeysFile.read(),
      grantsFile.read(),
      approversFile.read(),
    ]);

  // Each port persists by handing itself to its file (a snapshot, and a rollback).
  const registry: MemoryRegistry = new MemoryRegistry(
    () => registryFile.save(registry),
    registryData,
  );
  const revocations: MemoryRevocations = new MemoryRevocations(
    clock,
    () => revocationsFile.save(revocations),
    revocationsData,
  );
  const signingKeys: MemorySigningKeys = new MemorySigningKeys(
    () => signingKeysFile.save(signingKeys),
    signingKeysData,
  );
  const grants: MemoryGrants = new MemoryGrants(() => grantsFile.save(grants), grantsData);
  const approvers: MemoryApprovers = new MemoryApprovers(
    () => approversFile.save(approvers),
    approversData,
  );
  // The audit log appends a line per entry (audit.log), created on the first one.
  const audit = await MemoryAuditLog.open({
    fs: fsys,
    dataDir,
    onTornTail: (details) =>
      options.logger?.warn(details, "cut off a torn last audit line (never acknowledged)"),
  });

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
      await lock.release();
    },
  };
}
