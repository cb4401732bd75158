import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AUDIENCE, createPki, SCOPE } from "../../bench/enroll.js";
import { type BenchSidecar, spawnSidecar } from "../../bench/scenarios/http.js";
import { type ServerProcess, spawnServer } from "../../bench/spawn-server.js";
import { stillRunning } from "../support/cli-process.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { h2, http2Session } from "../support/sidecar.js";
import { socketOwners } from "../support/socket-owners.js";

/**
 * The bench's server (bench/server.ts) and sidecar (bench/sidecar.ts) with workers, forked as
 * the bench forks them (bench/spawn-server.ts, bench/scenarios/http.ts), without running the
 * bench: each must start its workers on one port, answer `usage` for all of its processes
 * (bench/worker-group.ts), and stop them all.
 */

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 10 ms. */
const MICROS_PER_TICK = 10_000;
const CONNECTIONS = 4;

let dataDir: string | undefined;
let sidecar: BenchSidecar | undefined;
let server: ServerProcess | undefined;
let redis: RedisServer | undefined;

afterEach(async () => {
  await sidecar?.stop();
  await server?.stop();
  await redis?.stop();
  sidecar = undefined;
  server = undefined;
  redis = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The pids a process forked (Linux: /proc/<pid>/task/<pid>/children). */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** User and system CPU a process has spent so far, from /proc (rounded down to a tick). */
async function cpuMicrosOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command's closing parenthesis; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK;
}

/** The CPU every one of `pids` has spent so far, from /proc. */
async function cpuMicrosOfAll(pids: readonly number[]): Promise<number> {
  const each = await Promise.all(pids.map(cpuMicrosOf));
  return each.reduce((sum, micros) => sum + micros, 0);
}

describe("bench/server.ts with workers", () => {
  it("starts its workers, sums usage over all its processes, and stops them", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gatehouse-bench-server-"));
    await createPki(dataDir);
    redis = await startRedisServer();
    server = await spawnServer(dataDir, { redisUrl: redis.url, workers: 2 });
    expect(server.grpcPort).toBeGreaterThan(0);
    expect(server.connectPort).toBeGreaterThan(0);
    const workers = await childrenOf(server.pid);
    expect(workers).toHaveLength(2);
    const spent = await cpuMicrosOfAll([server.pid, ...workers]);
    expect((await server.usage({ collectFirst: true })).cpuMicros).toBeGreaterThanOrEqual(spent);
    await server.stop();
    server = undefined;
    expect(await stillRunning(workers)).toEqual([]);
  }, 120_000);
});

describe("bench/sidecar.ts with workers", () => {
  it("serves from every worker, sums usage over all its processes, and stops them", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gatehouse-bench-sidecar-"));
    const pki = await createPki(dataDir);
    sidecar = await spawnSidecar(dataDir, {
      upstream: "127.0.0.1:1", // never dialed: /healthz does not ask Gatehouse
      hmacSecret: randomBytes(32).toString("base64url"),
      audience: AUDIENCE,
      scope: SCOPE,
      workers: 2,
    });
    const { pid, url } = sidecar;
    const workers = await childrenOf(pid);
    expect(workers).toHaveLength(2);

    // Connections handed out in turn, held open: each worker holds some of them.
    const sessions = Array.from({ length: CONNECTIONS }, () => http2Session(pki.ca.certPem, url));
    try {
      for (const session of sessions) expect((await h2(session, "/healthz")).status).toBe(200);
      const owners = await socketOwners(Number(new URL(url).port), workers);
      expect([...owners].sort()).toEqual([...workers].sort());
    } finally {
      for (const session of sessions) session.close();
    }

    // Read from /proc first: usage is cumulative, so it can only have grown since.
    const spent = await cpuMicrosOfAll([pid, ...workers]);
    const usage = await sidecar.usage();
    expect(usage.cpuMicros).toBeGreaterThanOrEqual(spent);

    await sidecar.stop();
    sidecar = undefined;
    expect(await stillRunning(workers)).toEqual([]);
  }, 120_000);
});
