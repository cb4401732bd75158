import { type FileHandle, open, readFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import type { AuditHead, AuditKeyRecord, AuditLogStore, AuditRecord } from "../ports.js";
import { JsonFile } from "./json-file.js";
import { isObject } from "./snapshot.js";

const FILE_MODE = 0o600;
const LOG_FILE = "audit.log";
const KEY_FILE = "audit-key.json";

/**
 * The embedded audit log: an array in memory and, with a data directory, an append-only
 * file of one JSON line per entry, each line fsync'd before `append` resolves. The file
 * is created on the first append. At start the file is read back (the head is its last
 * line); a last line without its newline (a crash mid-write) was never acknowledged and is
 * cut off. The chain itself is checked by VerifyAuditChain, not here: a tampered file
 * still loads, so the tampering can be reported.
 */
export class MemoryAuditLog implements AuditLogStore {
  readonly #records: AuditRecord[];
  readonly #path: string | undefined;
  readonly #keyFile: JsonFile | undefined;
  #key: AuditKeyRecord | undefined;
  #handle: Promise<FileHandle> | undefined;
  #tail: Promise<void> = Promise.resolve();

  private constructor(records: AuditRecord[], dataDir?: string, key?: AuditKeyRecord) {
    this.#records = records;
    this.#path = dataDir === undefined ? undefined : join(dataDir, LOG_FILE);
    this.#keyFile = dataDir === undefined ? undefined : new JsonFile(dataDir, KEY_FILE);
    this.#key = key;
  }

  static async open(dataDir?: string): Promise<MemoryAuditLog> {
    if (dataDir === undefined) return new MemoryAuditLog([]);
    const records = await readLog(join(dataDir, LOG_FILE));
    const key = await new JsonFile(dataDir, KEY_FILE).read(parseAuditKey);
    return new MemoryAuditLog(records, dataDir, key);
  }

  async head(): Promise<AuditHead | undefined> {
    const last = this.#records.at(-1);
    return last && { seq: last.seq, hash: last.hash };
  }

  async append(record: AuditRecord): Promise<"appended" | "conflict"> {
    // Check and push without an await in between: atomic in one process.
    const last = this.#records.at(-1);
    const fits = last
      ? last.seq === record.seq - 1 && last.hash === record.prevHash
      : record.seq === 1;
    if (!fits) return "conflict";
    this.#records.push(record);
    if (this.#path !== undefined) await this.#write(`${JSON.stringify(record)}\n`);
    return "appended";
  }

  async read(offset: number, limit: number): Promise<readonly AuditRecord[]> {
    return this.#records.slice(offset, offset + limit);
  }

  async key(candidate: AuditKeyRecord): Promise<AuditKeyRecord> {
    if (this.#key) return this.#key;
    this.#key = candidate;
    await this.#keyFile?.save(() => candidate);
    return candidate;
  }

  /** Waits for every line in flight and closes the file. */
  async close(): Promise<void> {
    await this.#tail;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle).close();
  }

  /** Lines are written one at a time, in append order, each fsync'd. */
  #write(line: string): Promise<void> {
    const path = this.#path as string;
    const run = this.#tail.then(async () => {
      this.#handle ??= open(path, "a", FILE_MODE);
      const handle = await this.#handle;
      await handle.appendFile(line, "utf8");
      await handle.sync();
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

async function readLog(path: string): Promise<AuditRecord[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const end = text.lastIndexOf("\n") + 1;
  if (end < text.length) await truncate(path, Buffer.byteLength(text.slice(0, end)));
  const records: AuditRecord[] = [];
  for (const line of text.slice(0, end).split("\n")) {
    if (line === "") continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      // Kept as an undecodable entry: VerifyAuditChain reports it at its position.
      data = undefined;
    }
    records.push(isAuditRecord(data) ? data : malformed(records.length + 1));
  }
  return records;
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

function parseAuditKey(data: unknown, source: string): AuditKeyRecord {
  if (!isObject(data) || typeof data.kid !== "string" || typeof data.privateKeyPem !== "string") {
    throw new Error(`${source} is not a Gatehouse audit key file`);
  }
  return data as unknown as AuditKeyRecord;
}
