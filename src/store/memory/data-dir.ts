import { join } from "node:path";
import { DataDirInUseError, type DataDirLock, lockDataDir } from "./data-dir-lock.js";
import type { DataFs } from "./data-fs.js";

const DIR_MODE = 0o700;

/** Left by a save or a lock that a crash interrupted (json-file.ts, data-dir-lock.ts). */
const TEMP_FILE = /\.tmp$/;

/** The data directory cannot be created or written: refused at start, naming it. */
export class DataDirUnwritableError extends Error {
  constructor(dir: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? "error";
    super(
      `data directory ${dir} cannot be written (${code}): the embedded store persists ` +
        "there; give it a writable directory (dataDir / GATEHOUSE_DATA_DIR)",
      { cause },
    );
    this.name = "DataDirUnwritableError";
  }
}

/**
 * Creates the data directory (owner-only) if missing and takes its lock, which also proves
 * it writable: a directory that cannot be written is refused now, with its name, rather
 * than at the first registration (when the caller would learn it as an outage).
 */
export async function openDataDir(fsys: DataFs, dir: string): Promise<DataDirLock> {
  try {
    await fsys.mkdir(dir, { recursive: true, mode: DIR_MODE });
    return await lockDataDir(fsys, dir);
  } catch (error) {
    if (error instanceof DataDirInUseError) throw error;
    throw new DataDirUnwritableError(dir, error);
  }
}

/**
 * Removes the temp files of saves a crash interrupted (never renamed into place, so never
 * acknowledged). Safe only under the lock: no other process writes here.
 */
export async function removeStaleTempFiles(fsys: DataFs, dir: string): Promise<number> {
  const stale = (await fsys.readdir(dir)).filter((name) => TEMP_FILE.test(name));
  await Promise.all(stale.map((name) => fsys.rm(join(dir, name), { force: true })));
  return stale.length;
}
