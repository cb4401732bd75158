import * as fs from "node:fs/promises";

/**
 * The file-system calls the embedded store makes, injectable so tests can make the disk
 * refuse (full, read-only, failing) where the real one cannot be made to.
 */
export type DataFs = Pick<
  typeof fs,
  | "appendFile"
  | "link"
  | "mkdir"
  | "open"
  | "readFile"
  | "readdir"
  | "rename"
  | "rm"
  | "truncate"
  | "unlink"
>;

export const nodeFs: DataFs = fs;

/**
 * Errors of a disk that refuses to persist (full, read-only, permissions, I/O): the store
 * is unavailable, nothing was acknowledged (src/store/faults.ts).
 */
const DISK_FAULTS: ReadonlySet<string> = new Set([
  "ENOSPC",
  "EDQUOT",
  "EROFS",
  "EACCES",
  "EPERM",
  "EIO",
  "EMFILE",
  "ENFILE",
]);

export function isDiskFault(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && DISK_FAULTS.has(code);
}

/** Makes a new entry of `dir` (a rename, a created file) durable: fsync the directory. */
export async function syncDir(fsys: DataFs, dir: string): Promise<void> {
  const handle = await fsys.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
