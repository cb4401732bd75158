import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { type DataFs, syncDir } from "./data-fs.js";

/** The files hold signing keys: only the owner may read them. */
const FILE_MODE = 0o600;

/** A port whose state one JsonFile persists. */
export interface Persistent<S> {
  snapshot(): S;
  /** Puts the state back to `snapshot` (undefined: empty), after a save failed. */
  restore(snapshot: S | undefined): void;
}

/**
 * One JSON state file in the embedded store's data directory.
 *
 * Every save writes a temp file, fsyncs it, renames it over the target and fsyncs the
 * directory, so a crash leaves either the old or the new state, never a torn file, and an
 * acknowledged save survives power loss. Saves run one at a time (so an older snapshot can
 * never land after a newer one) and a save requested while another waits to start joins
 * it: a burst of writes costs two file writes, not one per write. A snapshot is taken when
 * its write starts, so it includes every change made before.
 *
 * Memory and disk never disagree: when a save fails (disk full, read-only, I/O error), the
 * port is restored to what the file durably holds, and every change made since (in the
 * failed snapshot, or waiting for the next save) is refused to its caller, which only ever
 * learns of success once its change is on disk.
 */
export class JsonFile<S> {
  readonly path: string;
  readonly #fs: DataFs;
  readonly #parse: (data: unknown, source: string) => S;
  /** What the file durably holds (read at start, or last written). */
  #durable: string | undefined;
  #tail: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  /** Bumped by every rollback: a save requested before one has had its change undone. */
  #generation = 0;
  /** The fault that caused the last rollback, given to the saves it undid. */
  #rolledBack: unknown;

  constructor(
    fsys: DataFs,
    dir: string,
    name: string,
    parse: (data: unknown, source: string) => S,
  ) {
    this.#fs = fsys;
    this.path = join(dir, name);
    this.#parse = parse;
  }

  /**
   * The file's content checked by `parse`, or undefined when the file does not exist
   * yet. Errors name the file but never quote it: it may hold private keys.
   */
  async read(): Promise<S | undefined> {
    let text: string;
    try {
      text = await this.#fs.readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const parsed = this.#decode(text);
    this.#durable = text;
    return parsed;
  }

  /** Resolves once a snapshot of `port` taken after this call is durably on disk. */
  save(port: Persistent<S>): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    const generation = this.#generation;
    const run = this.#tail.then(async () => {
      this.#queued = undefined;
      if (generation !== this.#generation) throw this.#rolledBack;
      const text = JSON.stringify(port.snapshot(), null, 2);
      try {
        await this.#write(text);
      } catch (error) {
        this.#rollBack(port, error);
        throw error;
      }
      // Renamed: the file now holds this state. If the directory cannot be synced the
      // caller hears of a failure, but memory keeps what the file holds.
      this.#durable = text;
      await syncDir(this.#fs, dirname(this.path));
    });
    this.#queued = run;
    // A failed save rejects its own callers but must not block the saves after it.
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every requested save has finished (successfully or not). */
  flush(): Promise<void> {
    return this.#tail;
  }

  /** Back to the durable state; the save queued behind this one is refused with `error`. */
  #rollBack(port: Persistent<S>, error: unknown): void {
    this.#generation += 1;
    this.#rolledBack = error;
    this.#queued = undefined;
    port.restore(this.#durable === undefined ? undefined : this.#decode(this.#durable));
  }

  #decode(text: string): S {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is not valid JSON`);
    }
    return this.#parse(data, this.path);
  }

  async #write(text: string): Promise<void> {
    const temp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const handle = await this.#fs.open(temp, "wx", FILE_MODE);
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.#fs.rename(temp, this.path);
    } catch (error) {
      await this.#fs.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  }
}
