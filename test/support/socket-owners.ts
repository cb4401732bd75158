import { readdir, readlink } from "node:fs/promises";
import { establishedConnections } from "./proc-net-tcp.js";

/**
 * Which of `pids` hold an established TCP connection accepted on local `port` (Linux:
 * /proc/net/tcp and tcp6 give each socket's inode, /proc/<pid>/fd links `socket:[inode]`).
 * With node:cluster the primary hands each accepted connection to one worker, which alone
 * holds it from then on: the owners are the workers that serve those connections.
 */
export async function socketOwners(port: number, pids: readonly number[]): Promise<Set<number>> {
  const inodes = new Set<string>();
  for (const connection of await establishedConnections()) {
    if (connection.localPort === port) inodes.add(connection.inode);
  }
  const owners = new Set<number>();
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode !== undefined && inodes.has(inode)) owners.add(pid);
    }
  }
  return owners;
}
