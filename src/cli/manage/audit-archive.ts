import { createReadStream } from "node:fs";
import { link, open, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { AuditEntry } from "../../../gen/gatehouse/v1/audit_pb.js";
import type { ChainEntry } from "../../audit/chain.js";
import { CliFailure, EXIT_FAILURE } from "../output.js";

/**
 * An archived segment of the audit chain (`gatehouse audit archive`): a file of JSON lines,
 * a header, then one line per entry in chain order with exactly what the chain rules read:
 * the event's bytes as hashed, the hash and the signature (src/audit/chain.ts). Nothing in
 * it needs the server to be believed: `gatehouse audit verify --offline --archive <file>`
 * walks the segment with the published audit keys and continues the same walk into the
 * live log, whose first entry after the segment must link to the segment's last hash.
 */
export const SEGMENT_FORMAT = "gatehouse-audit-segment/v1";

export interface SegmentHeader {
  readonly format: typeof SEGMENT_FORMAT;
  /** The first and last sequence in the segment. */
  readonly first: number;
  readonly last: number;
  /** The last entry's hash (hex): the anchor the live log continues from. */
  readonly lastHash: string;
}

interface SegmentLine {
  readonly eventBytes: string;
  readonly hash: string;
  readonly signature: string;
}

/**
 * Writes a segment to `path`: complete and synced in a temporary file first, then linked
 * into place, which fails if `path` exists (an archive is never overwritten), and the
 * directory synced.
 */
export async function writeSegment(
  path: string,
  header: SegmentHeader,
  entries: readonly AuditEntry[],
): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const file = await open(temporary, "wx", 0o644);
    try {
      await file.write(`${JSON.stringify(header)}\n`);
      for (const entry of entries) {
        const line: SegmentLine = {
          eventBytes: Buffer.from(entry.eventBytes).toString("base64"),
          hash: Buffer.from(entry.hash).toString("hex"),
          signature: Buffer.from(entry.signature).toString("base64"),
        };
        await file.write(`${JSON.stringify(line)}\n`);
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await link(temporary, path);
    // The new name durable too: a prune may follow (`archive --prune`).
    const dir = await open(dirname(path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Reads a segment's entries in order, after checking its header. The entries are only
 * parsed here; the chain walk judges them. A segment that ends before its header's `last`
 * was cut: refused, since the live log must continue from where the segment says it ends.
 */
export async function* readSegment(path: string): AsyncGenerator<ChainEntry, SegmentHeader> {
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let header: SegmentHeader | undefined;
  let count = 0;
  for await (const text of lines) {
    if (text === "") continue;
    const data = parseLine(path, text);
    if (!header) {
      header = segmentHeader(path, data);
      continue;
    }
    if (!isSegmentLine(data)) throw notASegment(path, `line ${count + 2} is not an entry`);
    count += 1;
    yield {
      eventBytes: Buffer.from(data.eventBytes, "base64"),
      hash: data.hash,
      signature: Buffer.from(data.signature, "base64"),
    };
  }
  if (!header) throw notASegment(path, "it is empty");
  if (count !== header.last - header.first + 1) {
    throw notASegment(
      path,
      `it holds ${count} entries, its header says ${header.first}–${header.last}`,
    );
  }
  return header;
}

function parseLine(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw notASegment(path, "a line is not JSON");
  }
}

function segmentHeader(path: string, data: unknown): SegmentHeader {
  const header = data as Partial<SegmentHeader> | null;
  if (
    header?.format !== SEGMENT_FORMAT ||
    !Number.isSafeInteger(header.first) ||
    !Number.isSafeInteger(header.last) ||
    (header.first ?? 0) < 1 ||
    (header.last ?? 0) < (header.first ?? 0) ||
    typeof header.lastHash !== "string"
  ) {
    throw notASegment(path, `its header is not a ${SEGMENT_FORMAT} header`);
  }
  return header as SegmentHeader;
}

function isSegmentLine(data: unknown): data is SegmentLine {
  const line = data as Partial<SegmentLine> | null;
  return (
    typeof line?.eventBytes === "string" &&
    typeof line.hash === "string" &&
    typeof line.signature === "string"
  );
}

function notASegment(path: string, why: string): CliFailure {
  return new CliFailure(`${path} is not an audit segment: ${why}`, EXIT_FAILURE);
}
