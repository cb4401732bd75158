import { readFile } from "node:fs/promises";

/** /proc/net/tcp's state of an established connection. */
const ESTABLISHED = "01";

/** One established TCP connection on this machine, as Linux lists it. */
export interface TcpConnection {
  readonly localPort: number;
  /** Bytes received and not yet read by the process that holds the socket. */
  readonly unread: number;
  readonly inode: string;
}

/** Every established connection in /proc/net/tcp and tcp6 (IPv4 and IPv6). */
export async function establishedConnections(): Promise<TcpConnection[]> {
  const connections: TcpConnection[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const [, local = "", , state, queues = "", , , , , inode = ""] = line.trim().split(/\s+/);
      if (state !== ESTABLISHED) continue;
      connections.push({
        localPort: Number.parseInt(local.split(":")[1] ?? "", 16),
        unread: Number.parseInt(queues.split(":")[1] ?? "", 16),
        inode,
      });
    }
  }
  return connections;
}

/**
 * Bytes waiting unread on the connections accepted on local `port`. A stopped (SIGSTOP)
 * server reads nothing, so what a client sends it since then shows here.
 */
export async function unreadBytes(port: number): Promise<number> {
  let total = 0;
  for (const connection of await establishedConnections()) {
    if (connection.localPort === port) total += connection.unread;
  }
  return total;
}
