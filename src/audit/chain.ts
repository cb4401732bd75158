import { createHash, type KeyObject, sign, verify } from "node:crypto";
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  AuditChainProblem,
  type AuditEntry,
  AuditEntrySchema,
  type AuditEvent,
  AuditEventSchema,
} from "../../gen/gatehouse/v1/audit_pb.js";
import type { AuditLogStore, AuditRecord } from "../store/ports.js";
import { type ChainFields, encodeAuditEvent } from "./encode.js";
import type { AuditEventInput } from "./writer.js";

/**
 * The chain (documented on AuditService in proto/gatehouse/v1/audit.proto):
 *
 *   bytes_n = protobuf binary of AuditEvent n (sequence n, prev_hash = hash_{n-1}, …)
 *   hash_n  = SHA-256("GATEHOUSE-AUDIT\0v1\0" ‖ bytes_n)
 *   sig_n   = Ed25519(audit key, hash_n)
 *
 * Canonical encoding: the writer encodes once (encode.ts: fields in number order, as
 * protobuf-es writes them; AuditEvent has no maps), and the store keeps those exact bytes
 * (base64). Verification hashes the stored bytes and only decodes them to read the fields:
 * it never re-encodes, so it does not depend on any encoder being deterministic across
 * versions.
 */
export const AUDIT_DOMAIN = Buffer.from("GATEHOUSE-AUDIT\0v1\0", "utf8");
export const GENESIS_HASH = "0".repeat(64);

export function auditHash(eventBytes: Uint8Array): Buffer {
  return createHash("sha256").update(AUDIT_DOMAIN).update(eventBytes).digest();
}

/** Encodes, hashes and signs one event, chained as `chain` says, into a store record. */
export function sealEvent(
  event: AuditEventInput,
  chain: ChainFields,
  privateKey: KeyObject,
): AuditRecord {
  const bytes = encodeAuditEvent(event, chain);
  const hash = auditHash(bytes);
  return {
    seq: chain.sequence,
    prevHash: Buffer.from(chain.prevHash).toString("hex"),
    hash: hash.toString("hex"),
    event: Buffer.from(bytes).toString("base64"),
    signature: sign(null, hash, privateKey).toString("base64"),
  };
}

/** The record as the API returns it; undefined when its event does not decode. */
export function toAuditEntry(record: AuditRecord): AuditEntry | undefined {
  const event = decodeEvent(record);
  if (!event) return undefined;
  return create(AuditEntrySchema, {
    event,
    hash: Buffer.from(record.hash, "hex"),
    signature: Buffer.from(record.signature, "base64"),
  });
}

export function decodeEvent(record: AuditRecord): AuditEvent | undefined {
  try {
    return fromBinary(AuditEventSchema, Buffer.from(record.event, "base64"));
  } catch {
    return undefined;
  }
}

export type ChainVerdict =
  | { readonly ok: true; readonly entries: number; readonly headHash: string }
  | {
      readonly ok: false;
      readonly entries: number;
      readonly brokenSequence: number;
      readonly problem: AuditChainProblem;
    };

const PAGE = 500;

/**
 * Walks the whole log in stored order. Entry at position n (from 1) must carry sequence n,
 * link to the hash of the entry before it, hash to its stored hash, and carry a valid
 * signature by a known audit key; finally the store's head must be the last entry. The
 * first failure is the answer.
 */
export async function verifyAuditChain(
  log: AuditLogStore,
  publicKeys: ReadonlyMap<string, KeyObject>,
): Promise<ChainVerdict> {
  let prevHash = GENESIS_HASH;
  let position = 0;
  const broken = (problem: AuditChainProblem, at = position): ChainVerdict => ({
    ok: false,
    entries: position,
    brokenSequence: at,
    problem,
  });
  for (;;) {
    const page = await log.read(position, PAGE);
    for (const record of page) {
      position += 1;
      const event = decodeEvent(record);
      if (!event) return broken(AuditChainProblem.MALFORMED);
      if (event.sequence !== BigInt(position)) return broken(AuditChainProblem.SEQUENCE_GAP);
      if (Buffer.from(event.prevHash).toString("hex") !== prevHash) {
        return broken(AuditChainProblem.PREV_HASH_MISMATCH);
      }
      const hash = auditHash(Buffer.from(record.event, "base64"));
      if (hash.toString("hex") !== record.hash) return broken(AuditChainProblem.HASH_MISMATCH);
      const key = publicKeys.get(event.auditKeyId);
      if (!key) return broken(AuditChainProblem.KEY_UNKNOWN);
      if (!verify(null, hash, key, Buffer.from(record.signature, "base64"))) {
        return broken(AuditChainProblem.SIGNATURE_INVALID);
      }
      prevHash = record.hash;
    }
    if (page.length < PAGE) break;
  }
  const head = await log.head();
  const headMatches =
    position === 0 ? head === undefined : head?.seq === position && head.hash === prevHash;
  if (!headMatches) return broken(AuditChainProblem.HEAD_MISMATCH, position + 1);
  return { ok: true, entries: position, headHash: prevHash };
}
