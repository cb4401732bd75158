import { createHash, type KeyObject, sign } from "node:crypto";
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  AuditChainProblem,
  type AuditEntry,
  AuditEntrySchema,
  type AuditEvent,
  AuditEventSchema,
} from "../../gen/gatehouse/v1/audit_pb.js";
import { verifyEd25519KeyObject } from "../crypto/ed25519.js";
import type { AuditLogStore, AuditRecord } from "../store/ports.js";
import { type ChainFields, encodeAuditEvent } from "./encode.js";
import type { AuditEventInput } from "./writer.js";

/**
 * The chain (documented on AuditService in proto/gatehouse/v1/audit.proto):
 *
 *   bytes_n = protobuf binary of AuditEvent n (sequence n, prev_hash = hash_{n-1}, …)
 *   hash_n  = SHA-256("GATEHOUSE-AUDIT\0v1\0" ‖ bytes_n)
 *   sig_n   = Ed25519(audit key, hash_n), on the last entry of each batch the writer
 *             appends; the other entries carry none. hash_n covers prev_hash, so one
 *             signature on the last entry authenticates every entry before it back to the
 *             previous signed one. A chain of one signature per entry (before batches) is
 *             a chain of batches of one, and verifies under the same rule.
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

/** Encodes and hashes one event, chained as `chain` says, into an unsigned store record. */
export function chainEvent(event: AuditEventInput, chain: ChainFields): AuditRecord {
  const bytes = encodeAuditEvent(event, chain);
  return {
    seq: chain.sequence,
    prevHash: Buffer.from(chain.prevHash).toString("hex"),
    hash: auditHash(bytes).toString("hex"),
    event: Buffer.from(bytes).toString("base64"),
    signature: "",
  };
}

/** The record signed: the audit key's Ed25519 signature over its 32 hash bytes. */
export function signRecord(record: AuditRecord, privateKey: KeyObject): AuditRecord {
  const signature = sign(null, Buffer.from(record.hash, "hex"), privateKey);
  return { ...record, signature: signature.toString("base64") };
}

/** The record as the API returns it; undefined when its event does not decode. */
export function toAuditEntry(record: AuditRecord): AuditEntry | undefined {
  const eventBytes = Buffer.from(record.event, "base64");
  const event = decodeBytes(eventBytes);
  if (!event) return undefined;
  return create(AuditEntrySchema, {
    event,
    hash: Buffer.from(record.hash, "hex"),
    signature: Buffer.from(record.signature, "base64"),
    eventBytes,
  });
}

export function decodeEvent(record: AuditRecord): AuditEvent | undefined {
  return decodeBytes(Buffer.from(record.event, "base64"));
}

function decodeBytes(bytes: Uint8Array): AuditEvent | undefined {
  try {
    return fromBinary(AuditEventSchema, bytes);
  } catch {
    return undefined;
  }
}

/** One entry as the chain rules read it, wherever it comes from. */
export interface ChainEntry {
  /** The event's encoding, exactly as hashed. */
  readonly eventBytes: Uint8Array;
  /** The hash stored with it, hex. */
  readonly hash: string;
  readonly signature: Uint8Array;
}

/** A point the chain must pass through: `hash` (hex) at `sequence`. */
export interface ChainAnchor {
  readonly sequence: number;
  readonly hash: string;
}

/** What one entry shows on its own (`signed`: it carries a signature, which verified), or why it fails. */
export type EntryCheck =
  | { readonly event: AuditEvent; readonly hash: string; readonly signed: boolean }
  | { readonly problem: AuditChainProblem };

/**
 * The rules one entry meets on its own: its bytes decode, hash to its stored hash, and name
 * one of `publicKeys`; its signature, when it carries one (the last entry of a batch), is a
 * valid signature by that key. An unsigned entry is authenticated only by the signed entry
 * that ends its batch, through the chain (ChainWalk). An operator, who lists only its own
 * domain's entries, can check signed ones fully without the chain around them.
 */
export function checkEntry(
  entry: ChainEntry,
  publicKeys: ReadonlyMap<string, KeyObject>,
): EntryCheck {
  const event = decodeBytes(entry.eventBytes);
  if (!event) return { problem: AuditChainProblem.MALFORMED };
  const hash = auditHash(entry.eventBytes);
  if (hash.toString("hex") !== entry.hash) return { problem: AuditChainProblem.HASH_MISMATCH };
  const key = publicKeys.get(event.auditKeyId);
  if (!key) return { problem: AuditChainProblem.KEY_UNKNOWN };
  if (entry.signature.length === 0) return { event, hash: entry.hash, signed: false };
  // The one strict Ed25519 verification: a key read back that is weak verifies nothing.
  if (!verifyEd25519KeyObject(key, hash, entry.signature)) {
    return { problem: AuditChainProblem.SIGNATURE_INVALID };
  }
  return { event, hash: entry.hash, signed: true };
}

/**
 * The chain rules, one entry at a time, in chain order: the server's walk over its store
 * (verifyAuditChain) and a client's over the entries it listed (`gatehouse audit verify
 * --offline`) are this one walk. The entry at position n (from 1) must pass checkEntry,
 * carry sequence n, link to the hash of the entry before it, and have the anchored hash
 * where an anchor names n. An unsigned entry passes on condition: a later signed entry
 * (the end of its batch) must come before the walk ends, else the walk ends on an unsigned
 * tail (unsignedTail), which no signature covers. Pages and segments do not matter: the walk
 * carries over them, and only its end must be signed. A walk over a pruned log starts at its
 * base (the last entry pruned) instead of the genesis: anchors before the base are out of
 * its sight (they are in the archived segments), one at the base must be the base.
 */
export class ChainWalk {
  #position: number;
  #prevHash: string;
  /** The first entry since the last signed one, if any: not covered by a signature yet. */
  #firstUnsigned: number | undefined;
  readonly #start: number;
  readonly #publicKeys: ReadonlyMap<string, KeyObject>;
  readonly #anchors: ReadonlyMap<number, string>;

  constructor(
    publicKeys: ReadonlyMap<string, KeyObject>,
    anchors: readonly ChainAnchor[] = [],
    base?: ChainAnchor,
  ) {
    this.#publicKeys = publicKeys;
    this.#anchors = new Map(anchors.map((anchor) => [anchor.sequence, anchor.hash]));
    this.#start = base?.sequence ?? 0;
    this.#position = this.#start;
    this.#prevHash = base?.hash ?? GENESIS_HASH;
  }

  /** Entries that passed since the start (the base, or the genesis). */
  get checked(): number {
    return this.#position - this.#start;
  }

  /** An anchor at the base that the base contradicts, if any. */
  baseProblem(): AuditChainProblem | undefined {
    const anchored = this.#anchors.get(this.#start);
    return anchored !== undefined && anchored !== this.#prevHash
      ? AuditChainProblem.ANCHOR_MISMATCH
      : undefined;
  }

  /** The sequence of the last entry that passed (the base's, or 0, before any). */
  get position(): number {
    return this.#position;
  }

  /** The hash of the last entry that passed (the genesis hash before any). */
  get headHash(): string {
    return this.#prevHash;
  }

  /** Checks the next entry: its problem (which ends the walk), else undefined. */
  next(entry: ChainEntry): AuditChainProblem | undefined {
    const position = this.#position + 1;
    const checked = checkEntry(entry, this.#publicKeys);
    if ("problem" in checked) return checked.problem;
    const { event, hash } = checked;
    if (event.sequence !== BigInt(position)) return AuditChainProblem.SEQUENCE_GAP;
    if (Buffer.from(event.prevHash).toString("hex") !== this.#prevHash) {
      return AuditChainProblem.PREV_HASH_MISMATCH;
    }
    const anchored = this.#anchors.get(position);
    if (anchored !== undefined && anchored !== hash) return AuditChainProblem.ANCHOR_MISMATCH;
    this.#position = position;
    this.#prevHash = hash;
    if (checked.signed) this.#firstUnsigned = undefined;
    else this.#firstUnsigned ??= position;
    return undefined;
  }

  /** The sequence of the first entry after the last signed one: the walk must not end there. */
  unsignedTail(): number | undefined {
    return this.#firstUnsigned;
  }

  /** After the last entry: the first anchor the chain never reached (it was cut), if any. */
  unreachedAnchor(): number | undefined {
    const beyond = [...this.#anchors.keys()].filter((sequence) => sequence > this.#position);
    return beyond.length > 0 ? Math.min(...beyond) : undefined;
  }
}

/** `entries` counts the entries walked after `base` (the genesis when undefined). */
export type ChainVerdict = { readonly base: ChainAnchor | undefined } & (
  | { readonly ok: true; readonly entries: number; readonly headHash: string }
  | {
      readonly ok: false;
      readonly entries: number;
      readonly brokenSequence: number;
      readonly problem: AuditChainProblem;
    }
);

const PAGE = 500;

/**
 * Walks the whole live log in stored order (ChainWalk), from its base when it was pruned;
 * finally the store's head must be the last entry, the last entry must be signed (batches
 * are appended whole, so the stored log always ends on a signature), and every anchor after
 * the base must have been reached. The first failure is the answer.
 */
export async function verifyAuditChain(
  log: AuditLogStore,
  publicKeys: ReadonlyMap<string, KeyObject>,
  anchors: readonly ChainAnchor[] = [],
): Promise<ChainVerdict> {
  const stored = await log.base();
  const base = stored && { sequence: stored.seq, hash: stored.hash };
  const walk = new ChainWalk(publicKeys, anchors, base);
  const broken = (
    problem: AuditChainProblem,
    at: number,
    entries = walk.checked,
  ): ChainVerdict => ({
    base,
    ok: false,
    entries,
    brokenSequence: at,
    problem,
  });
  const baseProblem = walk.baseProblem();
  if (baseProblem !== undefined) return broken(baseProblem, walk.position);
  for (;;) {
    const page = await log.read(walk.position, PAGE);
    for (const record of page) {
      const problem = walk.next({
        eventBytes: Buffer.from(record.event, "base64"),
        hash: record.hash,
        signature: Buffer.from(record.signature, "base64"),
      });
      // The broken entry was checked too.
      if (problem !== undefined) return broken(problem, walk.position + 1, walk.checked + 1);
    }
    if (page.length < PAGE) break;
  }
  const position = walk.position;
  const head = await log.head();
  const headMatches =
    position === 0 ? head === undefined : head?.seq === position && head.hash === walk.headHash;
  if (!headMatches) return broken(AuditChainProblem.HEAD_MISMATCH, position + 1);
  const unsigned = walk.unsignedTail();
  if (unsigned !== undefined) return broken(AuditChainProblem.UNSIGNED_TAIL, unsigned);
  const unreached = walk.unreachedAnchor();
  if (unreached !== undefined) return broken(AuditChainProblem.ANCHOR_MISMATCH, unreached);
  return { base, ok: true, entries: walk.checked, headHash: walk.headHash };
}
