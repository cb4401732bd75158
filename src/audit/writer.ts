import type { MessageInitShape } from "@bufbuild/protobuf";
import type { AuditEventSchema, AuditEventType } from "../../gen/gatehouse/v1/audit_pb.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { AuditAppendOutcome, AuditHead, AuditLogStore, AuditRecord } from "../store/ports.js";
import { chainEvent, GENESIS_HASH, signRecord } from "./chain.js";
import { createDenialFolder, type Denial } from "./denials.js";
import type { AuditKey } from "./key.js";

/** What a service records: the event's fields, without sequence, chain or signature. */
export type AuditEventInput = Omit<
  MessageInitShape<typeof AuditEventSchema>,
  "sequence" | "prevHash" | "time" | "auditKeyId" | "$typeName"
> & { readonly type: AuditEventType };

/** The Audit port the services use. */
export interface Audit {
  /**
   * Appends the event and resolves once it is durably in the chain (management changes and
   * login decisions: the caller awaits it, and the RPC fails if the audit write fails).
   */
  record(event: AuditEventInput): Promise<void>;
  /**
   * Hot path (Verify and Check denials): counts the denial and returns at once. Denials are
   * folded per key and window into DENIALS_FOLDED entries (denials.ts), so a flood of
   * them grows the log by a bounded number of entries per window, not one per request.
   */
  deny(denial: Denial): void;
  /**
   * Closes the open window of folded denials, then resolves when every event so far is
   * written (or failed).
   */
  flush(): Promise<void>;
  /** Entries whose write failed since start (the failures metric). */
  readonly failed: number;
  /** Entries accepted and not yet written: the queue-depth metric. */
  readonly queued: number;
}

export interface AuditWriterOptions {
  readonly log: AuditLogStore;
  readonly key: AuditKey;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long a window of folded denials stays open; default 60 s. */
  readonly denialWindowMs?: number;
  /** Distinct denial keys per window before the rest fold into one entry; default 256. */
  readonly denialMaxKeys?: number;
}

/** Another writer extended the chain this many times in a row: give up (store trouble). */
const MAX_ATTEMPTS = 100;
/** Entries in one batch at most (one signature, one store call). */
export const MAX_BATCH_ENTRIES = 256;
/**
 * Bytes of one batch's stored events (base64) at most; a single larger event still goes,
 * alone. With the JSON around each (under 400 bytes), one Redis script call or one write
 * stays under about 350 KiB.
 */
export const MAX_BATCH_BYTES = 256 * 1024;

/** One event to append, from `record`, until it is in the chain or failed. */
interface Job {
  readonly event: AuditEventInput;
  /** Resolves however the job ends (for `flush`). */
  readonly finished: Promise<void>;
  /** Ends the job: appended (no error) or given up. */
  end(error?: unknown): void;
}

/** A batch built on the head: its jobs and their records, the last one signed. */
interface Batch {
  readonly jobs: readonly Job[];
  readonly records: readonly AuditRecord[];
  /** Jobs taken from the front of the candidates (those that failed to encode included). */
  readonly taken: number;
}

/**
 * The one writer of this process: group commit. Order and chaining across replicas:
 *
 * - One batch is written at a time. The events recorded while it is being written wait, in
 *   call order, and go together into the next batch (at most MAX_BATCH_ENTRIES entries and
 *   MAX_BATCH_BYTES bytes): under load a batch holds what arrived during one store call, and
 *   a lone event goes at once, alone. A login's three events usually share a batch with
 *   other logins' events rather than waiting for three appends.
 * - A batch's entries are built in call order, each on the one before it (`sequence` + 1,
 *   `prev_hash` = its hash), the first on the head, hashed (SHA-256, here, since Redis Lua
 *   has no SHA-256); only the last is signed (Ed25519 over its hash, which through the
 *   links covers the whole batch: chain.ts).
 * - The batch is one compare-and-append on the store (AuditLogStore.append: one Lua script
 *   on Redis, one write and fsync on the embedded store): stored whole, and only if the head
 *   is still the entry it was built on. If another replica appended first, it is refused
 *   ("conflict", with the head it found): the writer rebuilds and re-signs the same batch
 *   on that head. So the stored order is the chain order, whatever the interleaving, and no two
 *   batches share a predecessor.
 * - `record` resolves only once its batch is stored; when the append fails (or its outcome
 *   is unknown), every entry of the batch is refused (the callers' RPCs fail closed), and the
 *   head is read again before the next batch.
 * - After a restart the writer starts from the store's head (read lazily on first append).
 */
export function createAuditWriter(options: AuditWriterOptions): Audit {
  const { log, key, clock, logger } = options;
  /** Not in a batch yet, in call order. */
  const waiting: Job[] = [];
  /** The batch being written (empty when idle). */
  let writing: readonly Job[] = [];
  let head: AuditHead | undefined;
  let headKnown = false;
  let draining = false;
  let failed = 0;

  function createJob(event: AuditEventInput, done: (error?: unknown) => void): Job {
    let finish = noop;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    return {
      event,
      finished,
      end(error) {
        if (error !== undefined) failed += 1;
        done(error);
        finish();
      },
    };
  }

  function accept(job: Job): void {
    waiting.push(job);
    if (!draining) drain().catch((err: unknown) => logger.error({ err }, "audit writer failed"));
  }

  /** Writes batches until nothing waits; the events recorded meanwhile join the next one. */
  async function drain(): Promise<void> {
    draining = true;
    try {
      while (waiting.length > 0) await writeNext();
    } finally {
      draining = false;
      writing = [];
    }
  }

  /** Takes the next batch from `waiting` and writes it, rebuilding it after each conflict. */
  async function writeNext(): Promise<void> {
    if (!headKnown) {
      try {
        head = await log.head();
        headKnown = true;
      } catch (err) {
        waiting.shift()?.end(err); // as its append would have failed; the next tries again
        return;
      }
    }
    let batch = build(waiting);
    waiting.splice(0, batch.taken);
    writing = batch.jobs;
    for (let attempt = 1; batch.jobs.length > 0; attempt++) {
      let outcome: AuditAppendOutcome;
      try {
        outcome = await log.append(batch.records);
      } catch (err) {
        headKnown = false; // stored or not: the head tells
        return endAll(batch.jobs, err);
      }
      if (outcome.status === "appended") {
        const last = batch.records.at(-1) as AuditRecord;
        head = { seq: last.seq, hash: last.hash };
        return endAll(batch.jobs);
      }
      // Another replica appended first: rebuild the same entries on the head it found.
      head = outcome.head;
      if (attempt >= MAX_ATTEMPTS) {
        headKnown = false;
        return endAll(batch.jobs, new Error("audit append kept conflicting"));
      }
      batch = build(batch.jobs);
      writing = batch.jobs;
    }
  }

  /**
   * The batch the first `candidates` make on the head, within the bounds: each entry chained
   * on the one before, the last one signed. A job whose event cannot be encoded ends with
   * that error and is left out; if the signature fails, every job of the batch ends.
   */
  function build(candidates: readonly Job[]): Batch {
    const jobs: Job[] = [];
    const records: AuditRecord[] = [];
    const timeMs = clock.now();
    let previous = head;
    let bytes = 0;
    let taken = 0;
    for (const job of candidates) {
      if (jobs.length === MAX_BATCH_ENTRIES) break;
      let record: AuditRecord;
      try {
        record = chainEvent(job.event, {
          sequence: (previous?.seq ?? 0) + 1,
          prevHash: Buffer.from(previous?.hash ?? GENESIS_HASH, "hex"),
          timeMs,
          auditKeyId: key.kid,
        });
      } catch (err) {
        taken += 1;
        job.end(err);
        continue;
      }
      if (jobs.length > 0 && bytes + record.event.length > MAX_BATCH_BYTES) break;
      taken += 1;
      bytes += record.event.length;
      jobs.push(job);
      records.push(record);
      previous = { seq: record.seq, hash: record.hash };
    }
    const last = records.pop();
    if (last === undefined) return { jobs, records, taken };
    try {
      records.push(signRecord(last, key.privateKey));
    } catch (err) {
      endAll(jobs, err);
      return { jobs: [], records: [], taken };
    }
    return { jobs, records, taken };
  }

  function endAll(jobs: readonly Job[], error?: unknown): void {
    for (const job of jobs) job.end(error);
  }

  function record(event: AuditEventInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      accept(createJob(event, (err) => (err === undefined ? resolve() : reject(err))));
    });
  }

  const denials = createDenialFolder({
    record,
    clock,
    logger,
    windowMs: options.denialWindowMs ?? 60_000,
    maxKeys: options.denialMaxKeys ?? 256,
  });

  return {
    record,
    deny: denials.fold,
    flush: async () => {
      await denials.flush();
      await Promise.all([...writing, ...waiting].map((job) => job.finished));
    },
    get failed() {
      return failed;
    },
    get queued() {
      return waiting.length + writing.length;
    },
  };
}

function noop(): void {}
