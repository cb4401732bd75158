import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { AuditEventType } from "../../gen/gatehouse/v1/audit_pb.js";
import type { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { AuditEventInput } from "./writer.js";

/** One Verify or Check denial, as the service saw it: identifiers only, never the token. */
export interface Denial {
  readonly denied: AuditEventType.VERIFY_DENIED | AuditEventType.CHECK_DENIED;
  readonly reason: Reason;
  /** The caller (`actorOf`): the verifier, operator, admin or proxy that asked. */
  readonly actorRole: string;
  readonly actor: string;
  readonly actorFingerprint: string;
  /** The agent the token named, when its claims were read; "" otherwise. */
  readonly subjectDid: string;
  readonly operatorDomain: string;
}

export interface DenialFolderOptions {
  /** Appends one folded entry; a rejection folds its count back into the open window. */
  readonly record: (event: AuditEventInput) => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long a window stays open before its entries are written. */
  readonly windowMs: number;
  /** Distinct keys per window; past it denials fold into the window's overflow entry. */
  readonly maxKeys: number;
}

export interface DenialFolder {
  /** Counts the denial in the open window (opening one if none is): O(1), never awaits. */
  fold(denial: Denial): void;
  /** Closes the open window now and resolves once its entries are written (or failed). */
  flush(): Promise<void>;
}

/** One key's count in the open window. */
interface Tally {
  readonly event: Omit<AuditEventInput, "denials">;
  readonly denied: AuditEventType;
  count: number;
  /** When its first denial was folded (or, folded back after a failed write, its window's). */
  startMs: number;
  readonly overflow: boolean;
}

const OVERFLOW_KEY = "";

/**
 * Bounded audit of denials. Every Verify or Check denial used to append its own entry, so a
 * flood of bad tokens grew the log (and Redis) without bound. Now each denial is counted
 * under its key (kind, reason, agent, caller) in the open window; when the window closes
 * (`windowMs` after its first denial, or at `flush`), each key becomes one chained, signed
 * AUDIT_EVENT_TYPE_DENIALS_FOLDED entry with its count. At most `maxKeys` keys are kept
 * per window; denials under further keys fold into one overflow entry. So the log grows by
 * at most `maxKeys + 1` entries per window and process, whatever the request rate, and the
 * folder's memory is bounded the same way. A failed write folds the count back into the
 * window then open, so no denial goes uncounted while the store recovers.
 */
export function createDenialFolder(options: DenialFolderOptions): DenialFolder {
  const { record, clock, logger, windowMs, maxKeys } = options;
  let window = new Map<string, Tally>();
  let timer: NodeJS.Timeout | undefined;
  const writing = new Set<Promise<void>>();

  function add(key: string, tally: Tally): void {
    const known = window.get(key);
    if (known) {
      known.count += tally.count;
      known.startMs = Math.min(known.startMs, tally.startMs);
      return;
    }
    if (window.size === 0) timer = setTimeout(close, windowMs).unref();
    window.set(key, tally);
  }

  function fold(denial: Denial): void {
    const startMs = clock.now();
    const key = keyOf(denial);
    const overflow = !window.has(key) && keyCount() >= maxKeys;
    if (overflow) {
      add(OVERFLOW_KEY, overflowTally(1, startMs));
      return;
    }
    const { denied, ...fields } = denial;
    add(key, {
      event: { type: AuditEventType.DENIALS_FOLDED, ...fields },
      denied,
      count: 1,
      startMs,
      overflow: false,
    });
  }

  /** Keys in the open window, not counting the overflow entry. */
  function keyCount(): number {
    return window.size - (window.has(OVERFLOW_KEY) ? 1 : 0);
  }

  /** Writes the open window's entries; a new window opens with the next denial. */
  function close(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const closing = window;
    window = new Map();
    const endMs = clock.now();
    const writes = [...closing].map(([key, tally]) => write(key, tally, endMs));
    const all = Promise.all(writes).then(noop);
    writing.add(all);
    return all.finally(() => writing.delete(all));
  }

  async function write(key: string, tally: Tally, endMs: number): Promise<void> {
    try {
      await record({
        ...tally.event,
        denials: {
          denied: tally.denied,
          count: BigInt(tally.count),
          windowStart: timestampFromMs(tally.startMs),
          windowEnd: timestampFromMs(endMs),
          overflow: tally.overflow,
        },
      });
    } catch (err) {
      // Kept, not lost: the count goes out with the next window (the key bound still holds).
      logger.warn({ err, denials: tally.count }, "audit of folded denials failed; kept");
      if (key === OVERFLOW_KEY || window.has(key) || keyCount() < maxKeys) add(key, { ...tally });
      else add(OVERFLOW_KEY, overflowTally(tally.count, tally.startMs));
    }
  }

  return {
    fold,
    async flush() {
      if (window.size > 0) close().catch(noop);
      await Promise.all([...writing]);
    },
  };
}

/** The window's overflow entry: no key, the system as its actor. */
function overflowTally(count: number, startMs: number): Tally {
  return {
    event: { type: AuditEventType.DENIALS_FOLDED, actorRole: "system" },
    denied: AuditEventType.UNSPECIFIED,
    count,
    startMs,
    overflow: true,
  };
}

/** Kind, reason, agent and caller: the fields a folded entry keeps. */
function keyOf(denial: Denial): string {
  return JSON.stringify([
    denial.denied,
    denial.reason,
    denial.subjectDid,
    denial.operatorDomain,
    denial.actorRole,
    denial.actor,
    denial.actorFingerprint,
  ]);
}

function noop(): void {}
