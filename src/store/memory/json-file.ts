import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** The files hold signing keys: only the owner may read them. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Creates the data directory, owner-only, if it is missing (an existing one is kept). */
export async function ensureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
}

/**
 * One JSON state file in the embedded store's data directory.
 *
 * Every save writes a temp file, fsyncs it and renames it over the target, so a crash
 * leaves either the old or the new state, never a torn file. Saves run one at a time
 * (so an older snapshot can never land after a newer one) and a save requested while
 * another waits to start joins it: a burst of writes costs two file writes, not one
 * per write. A snapshot is taken when its write starts, so it includes every change
 * made before.
 */
export class JsonFile {
  readonly path: string;
  #tail: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;

  constructor(dir: string, name: string) {
    this.path = join(dir, name);
  }

  /**
   * The file's content checked by `parse`, or undefined when the file does not exist
   * yet. Errors name the file but never quote it: it may hold private keys.
   */
  async read<T>(parse: (data: unknown, source: string) => T): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is not valid JSON`);
    }
    return parse(data, this.path);
  }

  /** Resolves once a snapshot taken after this call is durably on disk. */
  save(snapshot: () => unknown): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    const run = this.#tail.then(() => {
      this.#queued = undefined;
      return this.#write(JSON.stringify(snapshot(), null, 2));
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

  async #write(text: string): Promise<void> {
    const temp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const handle = await open(temp, "wx", FILE_MODE);
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
