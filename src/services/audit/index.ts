import type { KeyObject } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type AuditAnchor,
  type AuditEntry,
  AuditEventType,
  AuditService,
} from "../../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { type ChainAnchor, toAuditEntry, verifyAuditChain } from "../../audit/chain.js";
import { actorOf } from "../../audit/events.js";
import { rawPublicKey } from "../../audit/key.js";
import type { Audit } from "../../audit/writer.js";
import { GatehouseError, invalidArgument } from "../../errors/index.js";
import type { AuditHead, AuditLogStore } from "../../store/ports.js";
import { bindService, type ServiceBinding } from "../types.js";
import { entrySize, pageBudget } from "./page-budget.js";

export interface AuditServiceDeps {
  readonly log: AuditLogStore;
  /** Where a prune is recorded. */
  readonly audit: Audit;
  /** The audit keys entries may name, by kid. */
  readonly publicKeys: ReadonlyMap<string, KeyObject>;
  /** The largest message the transports send (`limits.maxMessageBytes`): pages stay under it. */
  readonly maxMessageBytes: number;
}

const DEFAULT_PAGE_SIZE = 100;
/** Entries examined per call at most, so a narrow filter cannot scan the whole log at once. */
const SCAN_LIMIT = 5_000;
const READ_BATCH = 500;
const KNOWN_TYPES = new Set(
  Object.values(AuditEventType).filter((v): v is number => typeof v === "number" && v !== 0),
);

export function createAuditService(deps: AuditServiceDeps): ServiceBinding {
  const { log } = deps;
  const budget = pageBudget(deps.maxMessageBytes);
  // Each key under its own thumbprint (loadAuditKey checked that the two match).
  const keys = [...deps.publicKeys].map(([keyId, key]) => ({
    keyId,
    publicKey: rawPublicKey(key),
  }));
  return bindService(AuditService, {
    getAuditKeys: async () => ({ keys }),

    async listAuditEvents(request, { caller }) {
      let operatorDomain = request.operatorDomain;
      if (caller.role === "operator") {
        if (operatorDomain !== "" && operatorDomain !== caller.operatorDomain) {
          throw new GatehouseError(Reason.OPERATOR_MISMATCH, { field: "operator_domain" });
        }
        operatorDomain = caller.operatorDomain ?? "";
        if (operatorDomain === "") throw new GatehouseError(Reason.PERMISSION_DENIED);
      }
      request.types.forEach((type, i) => {
        if (!KNOWN_TYPES.has(type)) throw invalidArgument(`types[${i}]`, "has an unknown value");
      });
      const types = new Set(request.types);
      const start = request.startTime ? timestampMs(request.startTime) : undefined;
      const end = request.endTime ? timestampMs(request.endTime) : undefined;
      const pageSize = request.pageSize || DEFAULT_PAGE_SIZE;
      const matches = (entry: AuditEntry): boolean => {
        const event = entry.event;
        if (!event) return false;
        const at = event.time ? timestampMs(event.time) : 0;
        return (
          (types.size === 0 || types.has(event.type)) &&
          (request.subjectDid === "" || event.subjectDid === request.subjectDid) &&
          (operatorDomain === "" || event.operatorDomain === operatorDomain) &&
          (start === undefined || at >= start) &&
          (end === undefined || at < end)
        );
      };

      // Entries up to the base were pruned: a page after one of them would silently skip
      // to the base, so it is refused; 0 starts at the base.
      const base = await log.base();
      const after = Number(request.afterSequence);
      if (base !== undefined && after !== 0 && after < base.seq) {
        throw new GatehouseError(Reason.AUDIT_ARCHIVED, { field: "after_sequence" });
      }
      let offset = Math.max(after, base?.seq ?? 0);
      const entries: AuditEntry[] = [];
      let bytes = 0;
      let scanned = 0;
      let more = false;
      scan: for (;;) {
        const batch = await log.read(offset, READ_BATCH);
        for (const record of batch) {
          const entry = toAuditEntry(record);
          if (entry && matches(entry)) {
            // Full by size: this entry opens the next page (a page holds at least one).
            const size = entrySize(entry);
            if (entries.length > 0 && bytes + size > budget) {
              more = true;
              break scan;
            }
            entries.push(entry);
            bytes += size;
          }
          // The record's own sequence: the store reads from the base even if a prune
          // landed since it was read above.
          offset = record.seq;
          scanned += 1;
          if (entries.length === pageSize || scanned >= SCAN_LIMIT) {
            more = (await log.read(offset, 1)).length > 0;
            break scan;
          }
        }
        if (batch.length < READ_BATCH) break;
      }
      return {
        entries,
        nextAfterSequence: more ? BigInt(offset) : 0n,
        ...(base && { base: anchorOf(base) }),
      };
    },

    async verifyAuditChain(request) {
      const verdict = await verifyAuditChain(log, deps.publicKeys, readAnchors(request.anchors));
      const base = verdict.base && {
        base: anchorOf({ seq: verdict.base.sequence, hash: verdict.base.hash }),
      };
      if (verdict.ok) {
        return {
          ok: true,
          entriesChecked: BigInt(verdict.entries),
          headHash: Buffer.from(verdict.headHash, "hex"),
          ...base,
        };
      }
      return {
        ok: false,
        entriesChecked: BigInt(verdict.entries),
        brokenSequence: BigInt(verdict.brokenSequence),
        problem: verdict.problem,
        ...base,
      };
    },

    async pruneAuditLog(request, { caller }) {
      if (request.throughSequence === 0n) {
        throw invalidArgument("through_sequence", "must be at least 1");
      }
      const through = {
        seq: Number(request.throughSequence),
        hash: Buffer.from(request.throughHash).toString("hex"),
      };
      // A base ends a batch (a signed entry): the live log then starts on a whole batch, and
      // an archived segment ends on a signature (chain.ts). The compare-and-prune below
      // holds the entry to this hash, so it is the entry read here.
      const [entry] = await log.read(through.seq - 1, 1);
      const endsBatch = entry?.seq === through.seq && entry.signature !== "";
      if (!endsBatch || (await log.prune(through)) === "conflict") {
        throw new GatehouseError(Reason.AUDIT_PRUNE_MISMATCH, { field: "through_hash" });
      }
      await deps.audit.record({
        type: AuditEventType.AUDIT_PRUNED,
        ...actorOf(caller),
        prunedThrough: anchorOf(through),
      });
      return { base: anchorOf(through) };
    },
  });
}

function anchorOf(head: AuditHead): { sequence: bigint; hash: Buffer } {
  return { sequence: BigInt(head.seq), hash: Buffer.from(head.hash, "hex") };
}

/** The anchors, each at a sequence from 1 and none named twice (the validator checked the rest). */
function readAnchors(anchors: readonly AuditAnchor[]): ChainAnchor[] {
  const seen = new Set<bigint>();
  return anchors.map(({ sequence, hash }, i) => {
    if (sequence === 0n) throw invalidArgument(`anchors[${i}].sequence`, "must be at least 1");
    if (seen.has(sequence)) throw invalidArgument(`anchors[${i}].sequence`, "is anchored twice");
    seen.add(sequence);
    return { sequence: Number(sequence), hash: Buffer.from(hash).toString("hex") };
  });
}
