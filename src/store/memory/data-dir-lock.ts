import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { type DataFs, syncDir } from "./data-fs.js";

const LOCK_FILE = "gatehouse.lock";
const FILE_MODE = 0o600;

/** Who holds a data directory: written to its lock file. */
interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /** Tells this process's lock from a dead one's that had the same pid (pid 1 in a container). */
  readonly nonce: string;
}

/** The data directory is held by another process; the message names it. */
export class DataDirInUseError extends Error {
  constructor(dir: string, holder: Holder | undefined) {
    const who = holder
      ? `process ${holder.pid} on ${holder.host} (since ${holder.startedAt})`
      : "another process (its lock file is unreadable)";
    super(
      `data directory ${dir} is in use by ${who}: one process per data directory. ` +
        `Stop it, or remove ${join(dir, LOCK_FILE)} if that process is gone.`,
    );
    this.name = "DataDirInUseError";
  }
}

/** Lock files this process holds: a second store on one directory here is refused too. */
const heldHere = new Set<string>();

export interface DataDirLock {
  /** Set when the lock of a process that no longer runs was taken over. */
  readonly tookOverFrom?: { readonly pid: number; readonly host: string };
  release(): Promise<void>;
}

/**
 * Takes the data directory for this process, so two processes never interleave writes
 * (which would break the audit chain for good). The lock file is created complete and
 * atomically: written to a temp file, fsync'd, then hard-linked to its name, which fails
 * if the name exists (no one ever sees a half-written lock). A lock whose process is gone
 * (same host, pid not running) is taken over by renaming it aside, which only one
 * contender can do; a live holder's lock renamed by mistake is put back.
 */
export async function lockDataDir(fsys: DataFs, dir: string): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE);
  if (heldHere.has(path)) throw new DataDirInUseError(dir, undefined);
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(8).toString("hex"),
  };
  let tookOverFrom: Holder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await create(fsys, dir, path, me)) {
      heldHere.add(path);
      return {
        ...(tookOverFrom && { tookOverFrom: { pid: tookOverFrom.pid, host: tookOverFrom.host } }),
        release: () => release(fsys, path, me),
      };
    }
    const holder = await readHolder(fsys, path);
    if (holder === undefined || isAlive(holder)) throw new DataDirInUseError(dir, holder);
    tookOverFrom = await takeOver(fsys, dir, path, holder);
  }
  throw new DataDirInUseError(dir, await readHolder(fsys, path));
}

/** True when the lock was created; false when one exists already. */
async function create(fsys: DataFs, dir: string, path: string, me: Holder): Promise<boolean> {
  const temp = `${path}.${me.nonce}.tmp`;
  const handle = await fsys.open(temp, "wx", FILE_MODE);
  try {
    await handle.writeFile(JSON.stringify(me), "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsys.link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await fsys.rm(temp, { force: true });
  }
  await syncDir(fsys, dir);
  return true;
}

/** Renames the dead holder's lock aside; puts it back if it turns out to be a live one. */
async function takeOver(fsys: DataFs, dir: string, path: string, dead: Holder): Promise<Holder> {
  const aside = `${path}.${process.pid}.stale`;
  try {
    await fsys.rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return dead; // someone else did
    throw error;
  }
  const moved = await readHolder(fsys, aside);
  if (moved !== undefined && moved.nonce !== dead.nonce && isAlive(moved)) {
    // A contender took the dead lock over first and we moved its fresh one: restore it.
    await fsys.link(aside, path).catch(() => undefined);
    await fsys.rm(aside, { force: true });
    throw new DataDirInUseError(dir, moved);
  }
  await fsys.rm(aside, { force: true });
  return dead;
}

async function release(fsys: DataFs, path: string, me: Holder): Promise<void> {
  heldHere.delete(path);
  const holder = await readHolder(fsys, path);
  if (holder?.nonce === me.nonce) await fsys.unlink(path);
}

async function readHolder(fsys: DataFs, path: string): Promise<Holder | undefined> {
  try {
    const data: unknown = JSON.parse(await fsys.readFile(path, "utf8"));
    const holder = data as Partial<Holder>;
    return typeof holder.pid === "number" &&
      typeof holder.host === "string" &&
      typeof holder.startedAt === "string" &&
      typeof holder.nonce === "string"
      ? (holder as Holder)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder may still run. Another host's process cannot be checked: assumed
 * alive (refused; the message says how to clear it). This host's pid is alive if a signal
 * could reach it (EPERM: it exists but is not ours); our own pid is a previous incarnation
 * (this process holds no lock on the directory: `heldHere`).
 */
function isAlive(holder: Holder): boolean {
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
