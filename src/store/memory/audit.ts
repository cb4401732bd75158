import { randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type {
  AuditAppendOutcome,
  AuditHead,
  AuditKeyRecord,
  AuditLogStore,
  AuditRecord,
} from "../ports.js";
import { type DataFs, syncDir } from "./data-fs.js";
import { JsonFile } from "./json-file.js";
import { isObject } from "./snapshot.js";

const FILE_MODE = 0o600;
const LOG_FILE = "audit.log";
const KEY_FILE = "audit-key.json";
const BASE_FILE = "audit-base.json";

/** Where the embedded audit log persists, and whom it tells about a repaired file. */
export interface AuditFileOptions {
  readonly fs: DataFs;
  readonly dataDir: string;
  /** A torn last line (a crash or a full disk mid-append) was cut off at start. */
  readonly onTornTail?: (details: { readonly path: string; readonly bytes: number }) => void;
}

/**
 * The embedded audit log: an array in memory and, with a data directory, an append-only
 * file of one JSON line per entry, each batch written at once and fsync'd before `append`
 * resolves. The file is created on the first append. At start the file is read back (the
 * head is its last line); a last line without its newline, and unsigned entries at the end
 * (a batch cut before its last, signed, line: a crash mid-write) were never acknowledged and
 * are cut off (reported). A failed append (disk full, I/O error) is cut off at once, and it
 * and every entry appended after it (each chained on it) are dropped from memory and
 * refused, so the file never holds a torn line in its middle and memory never holds an
 * entry the file lacks. The chain itself is checked by VerifyAuditChain, not here: a
 * tampered file still loads, so the tampering can be reported.
 *
 * Pruning (`prune`) writes the new base to its own file first (durably), then rewrites the
 * log file without the pruned lines (temp file, fsync, rename, directory fsync). A crash
 * between the two leaves the old file under the new base: at start, lines up to the base
 * are skipped, so either way the log reads as pruned.
 */
export class MemoryAuditLog implements AuditLogStore {
  readonly #records: AuditRecord[];
  readonly #file: AuditFileOptions | undefined;
  readonly #path: string | undefined;
  readonly #keyFile: JsonFile<AuditKeyRecord> | undefined;
  readonly #baseFile: JsonFile<AuditHead> | undefined;
  #key: AuditKeyRecord | undefined;
  #base: AuditHead | undefined;
  #handle: Promise<FileHandle> | undefined;
  #tail: Promise<void> = Promise.resolve();
  /** Entries, and bytes of the file, known durable. */
  #durableCount: number;
  #durableBytes: number;
  /** Bumped by every rollback: appends made before one were undone. */
  #generation = 0;
  #rolledBack: unknown;

  private constructor(
    records: AuditRecord[],
    bytes: number,
    base?: AuditHead,
    file?: AuditFileOptions,
    files?: { readonly key: JsonFile<AuditKeyRecord>; readonly base: JsonFile<AuditHead> },
    key?: AuditKeyRecord,
  ) {
    this.#records = records;
    this.#durableCount = records.length;
    this.#durableBytes = bytes;
    this.#file = file;
    this.#path = file && join(file.dataDir, LOG_FILE);
    this.#keyFile = files?.key;
    this.#baseFile = files?.base;
    this.#key = key;
    this.#base = base;
  }

  static async open(file?: AuditFileOptions): Promise<MemoryAuditLog> {
    if (file === undefined) return new MemoryAuditLog([], 0);
    const baseFile = new JsonFile(file.fs, file.dataDir, BASE_FILE, parseAuditBase);
    const base = await baseFile.read();
    const { records, bytes } = await readLog(file, base);
    const keyFile = new JsonFile(file.fs, file.dataDir, KEY_FILE, parseAuditKey);
    const files = { key: keyFile, base: baseFile };
    return new MemoryAuditLog(records, bytes, base, file, files, await keyFile.read());
  }

  async head(): Promise<AuditHead | undefined> {
    const last = this.#records.at(-1);
    return last ? { seq: last.seq, hash: last.hash } : this.#base;
  }

  async base(): Promise<AuditHead | undefined> {
    return this.#base;
  }

  async append(batch: readonly AuditRecord[]): Promise<AuditAppendOutcome> {
    const first = batch[0];
    if (!first) throw new Error("an audit batch holds at least one entry");
    // Check and push without an await in between: atomic in one process.
    const last = this.#records.at(-1) ?? this.#base;
    const fits = last
      ? last.seq === first.seq - 1 && last.hash === first.prevHash
      : first.seq === 1;
    if (!fits) return { status: "conflict", head: last && { seq: last.seq, hash: last.hash } };
    this.#records.push(...batch);
    if (this.#path !== undefined) {
      await this.#write(
        batch.map((record) => `${JSON.stringify(record)}\n`).join(""),
        batch.length,
      );
    } else this.#durableCount += batch.length; // without a file, memory is all there is
    return { status: "appended" };
  }

  async read(offset: number, limit: number): Promise<readonly AuditRecord[]> {
    const start = Math.max(offset - (this.#base?.seq ?? 0), 0);
    return this.#records.slice(start, start + limit);
  }

  /**
   * Queued behind the appends in flight, so only durable entries are pruned and no line is
   * written to the file while it is replaced.
   */
  prune(through: AuditHead): Promise<"pruned" | "conflict"> {
    const run = this.#tail.then(async () => {
      const count = through.seq - (this.#base?.seq ?? 0);
      const entry = this.#records[count - 1];
      if (count < 1 || count > this.#durableCount || entry?.hash !== through.hash) {
        return "conflict" as const;
      }
      if (entry.seq !== through.seq) return "conflict" as const;
      this.#base = through;
      await this.#baseFile?.save({
        snapshot: () => through,
        restore: (durable) => {
          this.#base = durable;
        },
      });
      // The base is durable: from here the log reads as pruned, whether or not the file
      // is rewritten now (a start skips the lines up to the base).
      this.#records.splice(0, count);
      this.#durableCount -= count;
      if (this.#path !== undefined) await this.#rewrite();
      return "pruned" as const;
    });
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async key(candidate: AuditKeyRecord): Promise<AuditKeyRecord> {
    if (this.#key) return this.#key;
    this.#key = candidate;
    await this.#keyFile?.save({
      snapshot: () => candidate,
      restore: (durable) => {
        this.#key = durable;
      },
    });
    return candidate;
  }

  /** Waits for every line in flight and closes the file. */
  async close(): Promise<void> {
    await this.#tail;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle.catch(() => undefined))?.close();
  }

  /** A batch's lines are written in one write and one fsync, batches one at a time, in order. */
  #write(lines: string, count: number): Promise<void> {
    const generation = this.#generation;
    const run = this.#tail.then(async () => {
      if (generation !== this.#generation) throw this.#rolledBack;
      try {
        const handle = await this.#open();
        await handle.appendFile(lines, "utf8");
        await handle.sync();
      } catch (error) {
        await this.#rollBack(error);
        throw error;
      }
      this.#durableBytes += Buffer.byteLength(lines);
      this.#durableCount += count;
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle === undefined) {
      const { fs, dataDir } = this.#file as AuditFileOptions;
      const opening = fs.open(this.#path as string, "a", FILE_MODE).then(async (handle) => {
        await syncDir(fs, dataDir); // the file's directory entry, once
        return handle;
      });
      this.#handle = opening;
      opening.catch(() => {
        if (this.#handle === opening) this.#handle = undefined;
      });
    }
    return this.#handle;
  }

  /** Replaces the log file with the live (durable) entries: temp, fsync, rename, dir fsync. */
  async #rewrite(): Promise<void> {
    const { fs, dataDir } = this.#file as AuditFileOptions;
    const path = this.#path as string;
    const text = this.#records
      .slice(0, this.#durableCount)
      .map((record) => `${JSON.stringify(record)}\n`)
      .join("");
    // The append handle names the old file: it is closed, and the next append reopens.
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle.catch(() => undefined))?.close();
    const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const file = await fs.open(temp, "wx", FILE_MODE);
      try {
        await file.writeFile(text, "utf8");
        await file.sync();
      } finally {
        await file.close();
      }
      await fs.rename(temp, path);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
    this.#durableBytes = Buffer.byteLength(text);
    await syncDir(fs, dataDir);
  }

  /** Cuts a partial line off the file and drops the undurable entries from memory. */
  async #rollBack(error: unknown): Promise<void> {
    this.#generation += 1;
    this.#rolledBack = error;
    this.#records.length = this.#durableCount;
    const { fs } = this.#file as AuditFileOptions;
    // Best effort: if even this fails, the next start cuts the torn tail off (readLog).
    await fs.truncate(this.#path as string, this.#durableBytes).catch(() => undefined);
  }
}

async function readLog(
  file: AuditFileOptions,
  base: AuditHead | undefined,
): Promise<{ records: AuditRecord[]; bytes: number }> {
  const path = join(file.dataDir, LOG_FILE);
  let text: string;
  try {
    text = await file.fs.readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { records: [], bytes: 0 };
    throw error;
  }
  const records: AuditRecord[] = [];
  // Where the file ends as acknowledged: after the last complete line that is not an unsigned
  // entry. Unsigned entries at the end are a batch whose write stopped before its last,
  // signed, line (a crash or a full disk mid-append): never acknowledged, cut off like a
  // torn line.
  let kept = { bytes: 0, records: 0 };
  let offset = 0;
  let bytes = 0;
  let previous = 0;
  for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", offset)) {
    const line = text.slice(offset, end);
    offset = end + 1;
    bytes += Buffer.byteLength(line) + 1;
    if (line === "") continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      // Kept as an undecodable entry: VerifyAuditChain reports it at its position.
      data = undefined;
    }
    const record = isAuditRecord(data) ? data : malformed(previous + 1);
    previous = record.seq;
    // Lines up to the base were pruned (a crash before the file was rewritten).
    if (records.length > 0 || base === undefined || record.seq > base.seq) records.push(record);
    if (!isAuditRecord(data) || data.signature !== "") {
      kept = { bytes, records: records.length };
    }
  }
  const total = Buffer.byteLength(text);
  if (kept.bytes < total) {
    await file.fs.truncate(path, kept.bytes);
    file.onTornTail?.({ path, bytes: total - kept.bytes });
  }
  records.length = kept.records;
  return { records, bytes: kept.bytes };
}

function isAuditRecord(data: unknown): data is AuditRecord {
  return (
    isObject(data) &&
    typeof data.seq === "number" &&
    typeof data.prevHash === "string" &&
    typeof data.hash === "string" &&
    typeof data.event === "string" &&
    typeof data.signature === "string"
  );
}

function malformed(position: number): AuditRecord {
  return { seq: position, prevHash: "", hash: "", event: "!", signature: "" };
}

function parseAuditBase(data: unknown, source: string): AuditHead {
  if (!isObject(data) || typeof data.seq !== "number" || typeof data.hash !== "string") {
    throw new Error(`${source} is not a Gatehouse audit base file`);
  }
  return { seq: data.seq, hash: data.hash };
}

function parseAuditKey(data: unknown, source: string): AuditKeyRecord {
  if (!isObject(data) || typeof data.kid !== "string" || typeof data.privateKeyPem !== "string") {
    throw new Error(`${source} is not a Gatehouse audit key file`);
  }
  return data as unknown as AuditKeyRecord;
}
