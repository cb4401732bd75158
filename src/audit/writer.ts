import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type AuditEventSchema, AuditEventType } from "../../gen/gatehouse/v1/audit_pb.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { AuditHead, AuditLogStore } from "../store/ports.js";
import { GENESIS_HASH, sealEvent } from "./chain.js";
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
   * Hot path (Verify denials): queues the event and returns at once. The queue is bounded;
   * when it is full the event is dropped, counted, logged, and an EVENTS_DROPPED entry
   * with the count is appended as soon as the queue has room: nothing is lost silently.
   */
  enqueue(event: AuditEventInput): void;
  /** Resolves when every event queued so far is written (or failed). */
  flush(): Promise<void>;
  /** Events dropped (queue full or write failure) since start: the metric. */
  readonly dropped: number;
}

export interface AuditWriterOptions {
  readonly log: AuditLogStore;
  readonly key: AuditKey;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Hot-path events waiting to be written, at most; default 1024. */
  readonly queueCapacity?: number;
}

/** Another writer extended the chain this many times in a row: give up (store trouble). */
const MAX_ATTEMPTS = 100;

/**
 * The one serialized writer of this process. Order and chaining across replicas:
 *
 * - In-process, every append runs after the previous one (a promise chain), so this
 *   process never races itself.
 * - Across replicas, each append is a compare-and-append on the store (AuditLogStore.append:
 *   a Lua script on Redis): the entry carries `sequence = head.seq + 1` and
 *   `prev_hash = head.hash`, is hashed (SHA-256, here, since Redis Lua has no SHA-256) and
 *   signed, and is stored only if the head has not moved. If another replica appended
 *   first, the writer re-reads the head, rebuilds, re-signs and retries. So the stored
 *   order is the chain order, whatever the interleaving, and no two entries share a
 *   predecessor.
 * - After a restart the writer starts from the store's head (read lazily on first append).
 */
export function createAuditWriter(options: AuditWriterOptions): Audit {
  const { log, key, clock, logger } = options;
  const capacity = options.queueCapacity ?? 1024;
  let head: AuditHead | undefined;
  let headKnown = false;
  let tail: Promise<void> = Promise.resolve();
  let queued = 0;
  let dropped = 0;
  let unreported = 0;

  async function append(event: AuditEventInput): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!headKnown) {
        head = await log.head();
        headKnown = true;
      }
      const seq = (head?.seq ?? 0) + 1;
      const record = sealEvent(
        {
          ...event,
          sequence: BigInt(seq),
          prevHash: Buffer.from(head?.hash ?? GENESIS_HASH, "hex"),
          time: timestampFromMs(clock.now()),
          auditKeyId: key.kid,
        },
        key.privateKey,
      );
      if ((await log.append(record)) === "appended") {
        head = { seq, hash: record.hash };
        return;
      }
      headKnown = false; // another replica appended: re-read the head and rebuild
    }
    throw new Error("audit append kept conflicting");
  }

  /** Runs `write` after every earlier append; a failure never blocks the ones after it. */
  function serialized(write: () => Promise<void>): Promise<void> {
    const run = tail.then(write);
    tail = run.catch(() => undefined);
    return run;
  }

  function drop(count: number, err?: unknown): void {
    dropped += count;
    unreported += count;
    logger.warn({ err, auditDroppedTotal: dropped }, "audit event dropped");
  }

  /** Reports drops in the chain itself, before the next queued event. */
  async function reportDrops(): Promise<void> {
    if (unreported === 0) return;
    const count = unreported;
    unreported = 0;
    await append({
      type: AuditEventType.EVENTS_DROPPED,
      actorRole: "system",
      droppedCount: BigInt(count),
    }).catch((err: unknown) => {
      unreported += count;
      logger.warn({ err }, "audit drop report failed");
    });
  }

  return {
    record: (event) =>
      serialized(async () => {
        await reportDrops();
        await append(event);
      }),
    enqueue(event) {
      if (queued >= capacity) {
        drop(1);
        return;
      }
      queued += 1;
      void serialized(async () => {
        queued -= 1;
        await reportDrops();
        await append(event).catch((err: unknown) => drop(1, err));
      });
    },
    flush: () => tail,
    get dropped() {
      return dropped;
    },
  };
}
