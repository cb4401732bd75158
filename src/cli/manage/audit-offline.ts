import type { KeyObject } from "node:crypto";
import { create, equals, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import type { GrpcClient } from "../../../clients/typescript/src/index.js";
import {
  AuditChainProblem,
  type AuditEntry,
  AuditEventSchema,
  type AuditService,
  type ListAuditEventsRequestSchema,
  type VerifyAuditChainResponse,
  VerifyAuditChainResponseSchema,
} from "../../../gen/gatehouse/v1/audit_pb.js";
import { type ChainAnchor, type ChainEntry, ChainWalk, checkEntry } from "../../audit/chain.js";
import { ed25519PublicKey } from "../../crypto/ed25519.js";
import { ed25519Thumbprint } from "../../crypto/jose/thumbprint.js";
import { CliFailure, EXIT_FAILURE, EXIT_USAGE } from "../output.js";
import { readSegment, SEGMENT_FORMAT, writeSegment } from "./audit-archive.js";

type AuditClient = GrpcClient<(typeof AuditService)["method"]>;

const PAGE_SIZE = 500;

export interface OfflineOptions {
  readonly anchors: readonly ChainAnchor[];
  /** Audit key ids to trust; empty: every published key. */
  readonly pinned: readonly string[];
  /** Each entry on its own, without the chain links (an operator's view of its domain). */
  readonly entriesOnly: boolean;
  /**
   * Archived segments (`gatehouse audit archive`), in chain order: walked first, and the
   * live log is walked on from the entry after the last one archived.
   */
  readonly archives?: readonly string[];
}

/**
 * `gatehouse audit verify --offline`: the chain walked here, not by the server. The keys
 * come from GetAuditKeys, each checked against its own name (its RFC 7638 thumbprint), and
 * only the `pinned` ones when any are given; the entries from archived segments, then from
 * ListAuditEvents, each checked on the bytes it was hashed from (src/audit/chain.ts, the
 * rules the server applies too), and the event each listed one shows must be the event those
 * bytes encode. What it cannot see is the store's head: entries cut from the end show only
 * against an anchor recorded before.
 */
export async function verifyOffline(
  client: AuditClient,
  options: OfflineOptions,
): Promise<VerifyAuditChainResponse> {
  const keys = await trustedKeys(client, options.pinned);
  const archives = options.archives ?? [];
  // Archives start at the genesis; without them the walk starts at the live log's base (the
  // server's word: what is before it can only be checked against the archived segments).
  const base = archives.length === 0 && !options.entriesOnly ? await liveBase(client) : undefined;
  const walk = new ChainWalk(keys, options.anchors, base);
  const reported = base && {
    base: { sequence: BigInt(base.sequence), hash: Buffer.from(base.hash, "hex") },
  };
  let checked = 0;
  const broken = (problem: AuditChainProblem, at: bigint, entries: number) =>
    create(VerifyAuditChainResponseSchema, {
      ok: false,
      entriesChecked: BigInt(entries),
      brokenSequence: at,
      problem,
      ...reported,
    });
  const baseProblem = walk.baseProblem();
  if (baseProblem !== undefined) return broken(baseProblem, BigInt(walk.position), 0);
  for (const path of archives) {
    const segment = readSegment(path);
    for (let next = await segment.next(); ; next = await segment.next()) {
      if (next.done) {
        if (next.value.last !== walk.position || next.value.lastHash !== walk.headHash) {
          throw new CliFailure(`${path}: its header does not match its entries`, EXIT_FAILURE);
        }
        break;
      }
      const problem = walk.next(next.value);
      checked += 1;
      if (problem !== undefined) return broken(problem, BigInt(walk.position + 1), checked);
    }
  }
  for await (const listed of listedEntries(client, BigInt(walk.position))) {
    const entry = chainEntry(listed);
    const position = BigInt(walk.position + 1);
    const problem =
      (options.entriesOnly ? entryProblem(entry, keys) : walk.next(entry)) ?? shownProblem(listed);
    checked += 1;
    if (problem !== undefined) {
      const at = options.entriesOnly ? (listed.event?.sequence ?? 0n) : position;
      return broken(problem, at, checked);
    }
  }
  if (options.entriesOnly) {
    return create(VerifyAuditChainResponseSchema, { ok: true, entriesChecked: BigInt(checked) });
  }
  // Pages cut batches anywhere; the listing as a whole ends on the log's head, a signed entry.
  const unsigned = walk.unsignedTail();
  if (unsigned !== undefined) {
    return broken(AuditChainProblem.UNSIGNED_TAIL, BigInt(unsigned), walk.checked);
  }
  const unreached = walk.unreachedAnchor();
  if (unreached !== undefined) {
    return broken(AuditChainProblem.ANCHOR_MISMATCH, BigInt(unreached), walk.checked);
  }
  return create(VerifyAuditChainResponseSchema, {
    ok: true,
    entriesChecked: BigInt(walk.checked),
    headHash: Buffer.from(walk.headHash, "hex"),
    ...reported,
  });
}

/** The live log's base (ListAuditEventsResponse.base), undefined when nothing was pruned. */
async function liveBase(client: AuditClient): Promise<ChainAnchor | undefined> {
  const { base } = await client.listAuditEvents({ pageSize: 1 });
  return base && { sequence: Number(base.sequence), hash: Buffer.from(base.hash).toString("hex") };
}

export interface ArchiveOptions {
  readonly out: string;
  /** The last sequence to archive; undefined: the last entry listed now. */
  readonly through: number | undefined;
  readonly pinned: readonly string[];
  /** Once the segment is durably written, prune the archived entries from the live log. */
  readonly prune?: boolean;
}

/**
 * `gatehouse audit archive`: the live chain from its first entry (after its base, if it was
 * pruned) through `through` (or the end of its batch, so that the segment ends on a
 * signature), walked here as `verify --offline` walks it (a broken chain, or one ending
 * unsigned, is not archived: its verdict is returned and no file written), then written as a segment
 * (audit-archive.ts). With `prune`, only once the segment is written, synced and linked, the
 * archived entries are pruned from the live log (PruneAuditLog, compare-and-prune on the last
 * archived entry's sequence and hash). Returns the verdict of the archived part; its head is
 * the anchor the live log continues from.
 */
export async function archiveChain(
  client: AuditClient,
  options: ArchiveOptions,
): Promise<VerifyAuditChainResponse> {
  const keys = await trustedKeys(client, options.pinned);
  const base = await liveBase(client);
  const walk = new ChainWalk(keys, [], base);
  const entries: AuditEntry[] = [];
  const refused = (problem: AuditChainProblem, at: number) =>
    create(VerifyAuditChainResponseSchema, {
      ok: false,
      entriesChecked: BigInt(walk.position + 1),
      brokenSequence: BigInt(at),
      problem,
    });
  for await (const listed of listedEntries(client, BigInt(walk.position))) {
    // A segment ends on a signature: `through` inside a batch extends to the batch's end.
    const reached = options.through !== undefined && walk.position >= options.through;
    if (reached && walk.unsignedTail() === undefined) break;
    const problem = walk.next(chainEntry(listed)) ?? shownProblem(listed);
    if (problem !== undefined) return refused(problem, walk.position + 1);
    entries.push(listed);
  }
  const unsigned = walk.unsignedTail();
  if (unsigned !== undefined) return refused(AuditChainProblem.UNSIGNED_TAIL, unsigned);
  if (options.through !== undefined && walk.position < options.through) {
    throw new CliFailure(
      `the chain ends at ${walk.position}, before ${options.through}`,
      EXIT_FAILURE,
    );
  }
  if (walk.checked === 0) {
    throw new CliFailure("the live audit log is empty: nothing to archive", EXIT_FAILURE);
  }
  const first = (base?.sequence ?? 0) + 1;
  const last = walk.position;
  await writeSegment(
    options.out,
    { format: SEGMENT_FORMAT, first, last, lastHash: walk.headHash },
    entries,
  );
  const headHash = Buffer.from(walk.headHash, "hex");
  if (options.prune) {
    await client.pruneAuditLog({ throughSequence: BigInt(last), throughHash: headHash });
  }
  return create(VerifyAuditChainResponseSchema, {
    ok: true,
    entriesChecked: BigInt(walk.checked),
    headHash,
    ...(base && {
      base: { sequence: BigInt(base.sequence), hash: Buffer.from(base.hash, "hex") },
    }),
  });
}

/** ListAuditEvents's filters (every field but the paging ones). */
export type AuditFilters = Omit<
  MessageInitShape<typeof ListAuditEventsRequestSchema>,
  "pageSize" | "afterSequence" | "$typeName"
>;

/**
 * Every listed entry after `after` that matches `filters`, page by page: the server cuts
 * pages by size (and by how many entries one call may scan), so only `next_after_sequence`
 * says whether more follow.
 */
export async function* listedEntries(
  client: AuditClient,
  after: bigint,
  filters: AuditFilters = {},
): AsyncGenerator<AuditEntry> {
  let next = after;
  do {
    const page = await client.listAuditEvents({
      ...filters,
      pageSize: PAGE_SIZE,
      afterSequence: next,
    });
    yield* page.entries;
    // A server that does not move forward would keep this loop going for ever.
    if (page.nextAfterSequence !== 0n && page.nextAfterSequence <= next) {
      throw new CliFailure("the server's audit pages do not advance", EXIT_FAILURE);
    }
    next = page.nextAfterSequence;
  } while (next !== 0n);
}

function chainEntry(listed: AuditEntry): ChainEntry {
  return {
    eventBytes: listed.eventBytes,
    hash: Buffer.from(listed.hash).toString("hex"),
    signature: listed.signature,
  };
}

function entryProblem(
  entry: ChainEntry,
  keys: ReadonlyMap<string, KeyObject>,
): AuditChainProblem | undefined {
  const checked = checkEntry(entry, keys);
  return "problem" in checked ? checked.problem : undefined;
}

/** The event a listed entry shows must be the one its (verified) bytes encode. */
function shownProblem(listed: AuditEntry): AuditChainProblem | undefined {
  const signed = fromBinary(AuditEventSchema, listed.eventBytes);
  return listed.event && equals(AuditEventSchema, signed, listed.event)
    ? undefined
    : AuditChainProblem.EVENT_MISMATCH;
}

async function trustedKeys(client: AuditClient, pinned: readonly string[]) {
  const { keys } = await client.getAuditKeys({});
  const trusted = new Map<string, KeyObject>();
  for (const { keyId, publicKey } of keys) {
    // The one key parser: a small-order or non-canonical key would verify forged entries.
    const key = ed25519PublicKey(publicKey);
    if (!key) {
      throw new CliFailure(
        `the server's audit key ${keyId} is not a sound Ed25519 key`,
        EXIT_FAILURE,
      );
    }
    if (ed25519Thumbprint(publicKey) !== keyId) {
      throw new CliFailure(`the server's audit key ${keyId} does not match its id`, EXIT_FAILURE);
    }
    if (pinned.length === 0 || pinned.includes(keyId)) trusted.set(keyId, key.keyObject);
  }
  return trusted;
}

/**
 * `--anchor <sequence>:<hash>`: a sequence from 1 and the entry's SHA-256 hash, hex (as
 * printed after a verification) or base64 (as `head_hash` is in the JSON verdict).
 */
export function parseAnchor(value: string): ChainAnchor {
  const match = /^([1-9][0-9]{0,15}):([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/.exec(value);
  const sequence = Number(match?.[1]);
  const hashText = match?.[2] ?? "";
  const hash =
    hashText.length === 64
      ? hashText.toLowerCase()
      : Buffer.from(hashText, "base64").toString("hex");
  if (!match || !Number.isSafeInteger(sequence) || hash.length !== 64) {
    throw new CliFailure(
      `not an anchor: ${value} (expected <sequence>:<SHA-256 hash, hex or base64>)`,
      EXIT_USAGE,
    );
  }
  return { sequence, hash };
}

/** The anchor a verified chain ends at (its base plus the entries after it), as `--anchor` reads it. */
export function anchorOf(verdict: VerifyAuditChainResponse): string {
  const head = (verdict.base?.sequence ?? 0n) + verdict.entriesChecked;
  return `${head}:${Buffer.from(verdict.headHash).toString("hex")}`;
}
