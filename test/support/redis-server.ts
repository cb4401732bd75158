import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Faults: SIGSTOP (a stalled server: connections stay open, nothing answers) … */
  pause(): void;
  /** … SIGCONT … */
  resume(): void;
  /** … SIGKILL (down: connections refused) … */
  kill(): Promise<void>;
  /** … and a fresh, empty server on the same port after `kill`. */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /** Starts a one-node Redis Cluster owning all 16384 slots (to test hash tags). */
  readonly cluster?: boolean;
  /** Listen on this port (to restart a stopped server where its clients reconnect). */
  readonly port?: number;
}

/** Override with REDIS_SERVER_BIN when redis-server is not on PATH. */
const BINARY = process.env.REDIS_SERVER_BIN ?? "redis-server";
const READY_TIMEOUT_MS = 10_000;
/** A free port can be taken by someone else before redis binds it; retry on a new one. */
const START_ATTEMPTS = 3;

/**
 * Starts a real, throwaway redis-server on a free loopback port: no persistence,
 * loopback only, in its own temp directory. Throws (never skips) when redis-server is
 * missing, so a CI job without it fails loudly instead of passing vacuously.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(options.port ?? (await freePort()), options);
    } catch (error) {
      if (error instanceof RedisMissingError) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * A lone cluster node has met no peer to learn its own address from, so CLUSTER SLOTS
 * would name it with an empty host; announcing the loopback address fixes that.
 */
const CLUSTER_ARGS = [
  "--cluster-enabled",
  "yes",
  "--cluster-config-file",
  "nodes.conf",
  "--cluster-announce-ip",
  "127.0.0.1",
];

class RedisMissingError extends Error {}

async function startOnce(port: number, options: RedisServerOptions): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--protected-mode",
    "yes",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    ...(options.cluster ? CLUSTER_ARGS : []),
  ];
  const child = spawn(BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
  // If the test process dies without calling stop(), do not leave redis running.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });

  const stop = async (): Promise<void> => {
    process.off("exit", killOnExit);
    await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await spawned(child);
    await waitFor(port, child, () => output, "PING", "+PONG");
    if (options.cluster) {
      await command(port, "CLUSTER ADDSLOTSRANGE 0 16383");
      await waitFor(port, child, () => output, "CLUSTER INFO", "cluster_state:ok");
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const killed = async (): Promise<void> => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };
  /** The server started by `restart`, which the fault methods then address. */
  let current: RedisServer | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await current?.stop();
      await stop();
    },
    pause: () => (current ? current.pause() : child.kill("SIGSTOP")),
    resume: () => (current ? current.resume() : child.kill("SIGCONT")),
    kill: () => (current ? current.kill() : killed()),
    async restart() {
      await current?.stop();
      current = await startOnce(port, options);
    },
  };
}

/** Resolves once the process started; rejects with a clear message if the binary is absent. */
function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT"
          ? new RedisMissingError(
              `${BINARY} not found: the Redis contract tests need a real redis-server ` +
                "(apt-get install redis-server, or set REDIS_SERVER_BIN)",
            )
          : error,
      );
    });
  });
}

/** Polls `request` until its reply contains `expected`, failing early if redis exits. */
async function waitFor(
  port: number,
  child: ChildProcess,
  output: () => string,
  request: string,
  expected: string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`redis-server exited with code ${child.exitCode}:\n${output()}`);
    }
    const reply = await command(port, request).catch(() => "");
    if (reply.includes(expected)) return;
    await sleep(25);
  }
  throw new Error(`redis-server did not answer ${request} within ${READY_TIMEOUT_MS} ms`);
}

/** Sends one inline command over a raw socket and returns the raw reply. */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    socket.setTimeout(1_000, () => socket.destroy(new Error("redis command timed out")));
    socket.on("connect", () => socket.write(`${line}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (!isComplete(reply)) return;
      socket.end();
      if (reply.startsWith("-")) reject(new Error(`redis replied ${reply.trim()}`));
      else resolve(reply);
    });
    socket.on("error", reject);
  });
}

/** A simple reply ends at its first CRLF; a bulk one ("$<length>") once its payload is in. */
function isComplete(reply: string): boolean {
  const headerEnd = reply.indexOf("\r\n");
  if (headerEnd === -1) return false;
  if (!reply.startsWith("$")) return true;
  const length = Number(reply.slice(1, headerEnd));
  return Buffer.byteLength(reply) >= headerEnd + 2 + length + 2;
}

/** Asks the OS for a free loopback port (redis needs a concrete one on its command line). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  const running = child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  if (!running) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
