import type { MessageInitShape } from "@bufbuild/protobuf";
import type { AuditEventSchema, AuditEventType } from "../../gen/gatehouse/v1/audit_pb.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { AuditHead, AuditLogStore, AuditRecord } from "../store/ports.js";
import { GENESIS_HASH, sealEvent } from "./chain.js";
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
/** Appends sent and not answered yet, at most. */
const MAX_IN_FLIGHT = 64;

/** One event to append, from `record`, until it is in the chain or failed. */
interface Job {
  readonly event: AuditEventInput;
  /** Call order: a job sent again keeps its place before every later one. */
  readonly order: number;
  attempts: number;
  /** Resolves however the job ends (for `flush`). */
  readonly finished: Promise<void>;
  /** Ends the job: appended (no error) or given up. */
  end(error?: unknown): void;
}

/**
 * The one writer of this process. Order and chaining across replicas:
 *
 * - Entries are built in call order, each on the one built before it (`sequence` = its
 *   sequence + 1, `prev_hash` = its hash), hashed (SHA-256, here, since Redis Lua has no
 *   SHA-256) and signed, then sent without waiting for the answer to the previous append:
 *   up to MAX_IN_FLIGHT travel together (on one Redis connection they run in the order
 *   sent). A login's three events no longer wait for one another's round trips.
 * - Each append is a compare-and-append on the store (AuditLogStore.append: a Lua script on
 *   Redis): stored only if the head is still the entry it was built on. If another replica
 *   appended first, the append is refused ("conflict"), and so is every one sent after it
 *   (each sits on an entry that is not in the chain). The writer then sends nothing until
 *   every answer is in, re-reads the head, and sends the refused entries again, in call
 *   order, rebuilt and re-signed on the new head. So the stored order is the chain order,
 *   whatever the interleaving, and no two entries share a predecessor.
 * - After a restart the writer starts from the store's head (read lazily on first append).
 */
export function createAuditWriter(options: AuditWriterOptions): Audit {
  const { log, key, clock, logger } = options;
  /** Not sent yet, in call order. */
  let waiting: Job[] = [];
  const inFlight = new Set<Job>();
  /** Refused since the head was last read: sent again once every answer is in. */
  let refused: Job[] = [];
  let head: AuditHead | undefined;
  let headKnown = false;
  /** A refusal came in: nothing is sent until every append in flight is answered. */
  let stalled = false;
  let pumping = false;
  let calls = 0;
  let failed = 0;

  function createJob(event: AuditEventInput, done: (error?: unknown) => void): Job {
    let finish = noop;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    return {
      event,
      order: calls++,
      attempts: 0,
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
    pump().catch((err: unknown) => logger.error({ err }, "audit writer failed"));
  }

  /** Sends what may be sent now; runs again whenever an append is answered. */
  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (!stalled && inFlight.size < MAX_IN_FLIGHT && waiting.length > 0) {
        if (!headKnown) {
          try {
            head = await log.head();
            headKnown = true;
          } catch (err) {
            waiting.shift()?.end(err); // as its append would have failed; the next tries again
            continue;
          }
          if (stalled) break;
        }
        const job = waiting.shift();
        if (!job) break;
        send(job);
      }
    } finally {
      pumping = false;
    }
  }

  function send(job: Job): void {
    job.attempts += 1;
    const seq = (head?.seq ?? 0) + 1;
    let record: AuditRecord;
    try {
      record = sealEvent(
        job.event,
        {
          sequence: seq,
          prevHash: Buffer.from(head?.hash ?? GENESIS_HASH, "hex"),
          timeMs: clock.now(),
          auditKeyId: key.kid,
        },
        key.privateKey,
      );
    } catch (err) {
      job.end(err);
      return;
    }
    head = { seq, hash: record.hash };
    inFlight.add(job);
    let answer: Promise<"appended" | "conflict">;
    try {
      answer = log.append(record);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (outcome) => answered(job, outcome),
      (err: unknown) => answered(job, { err }),
    );
  }

  function answered(job: Job, outcome: "appended" | "conflict" | { err: unknown }): void {
    inFlight.delete(job);
    if (outcome === "appended") {
      job.end();
    } else if (outcome === "conflict") {
      // Another replica appended first: nothing built on the old head can land now.
      stalled = true;
      headKnown = false;
      if (job.attempts >= MAX_ATTEMPTS) job.end(new Error("audit append kept conflicting"));
      else refused.push(job);
    } else {
      // Not stored (or unknown): whatever was built on it is refused, and sent again.
      job.end(outcome.err);
    }
    if (stalled && inFlight.size === 0) {
      stalled = false;
      waiting = [...refused.sort((a, b) => a.order - b.order), ...waiting];
      refused = [];
    }
    pump().catch((err: unknown) => logger.error({ err }, "audit writer failed"));
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
      await Promise.all([...refused, ...inFlight, ...waiting].map((job) => job.finished));
    },
    get failed() {
      return failed;
    },
    get queued() {
      return waiting.length + inFlight.size + refused.length;
    },
  };
}

function noop(): void {}
