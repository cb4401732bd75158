import { readFile } from "node:fs/promises";

/** /proc/net/tcp's states (include/net/tcp_states.h): established, and closed by the peer only. */
const ESTABLISHED = "01";
const CLOSE_WAIT = "08";

/** One TCP connection on this machine, as Linux lists it. */
export interface TcpConnection {
  readonly localPort: number;
  /** Bytes received and not yet read by the process that holds the socket. */
  readonly unread: number;
  readonly inode: string;
}

/** Every established connection in /proc/net/tcp and tcp6 (IPv4 and IPv6). */
export function establishedConnections(): Promise<TcpConnection[]> {
  return connectionsIn(ESTABLISHED);
}

/**
 * The connections accepted on local `port` that the peer has closed and the process holding
 * them has not (CLOSE-WAIT): each is a socket the server never ends.
 */
export async function closeWaitCount(port: number): Promise<number> {
  const connections = await connectionsIn(CLOSE_WAIT);
  return connections.filter((connection) => connection.localPort === port).length;
}

async function connectionsIn(wanted: string): Promise<TcpConnection[]> {
  const connections: TcpConnection[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const [, local = "", , state, queues = "", , , , , inode = ""] = line.trim().split(/\s+/);
      if (state !== wanted) continue;
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
