/**
 * `node --expose-gc [V8 flags] --import tsx bench/gc-per-call.ts`: what the young generation
 * pays per call over real sockets, for the empty RPC (grpc.health Check) and a cached Verify,
 * in alternating runs. The server runs in this process (the embedded store, gRPC with mutual
 * TLS), the load comes from bench/loadgen (Go, its own process), so what this process
 * allocates is the server's work. Per run it prints:
 *   young B/call   bytes allocated in the young generation per call (v8.GCProfiler: the new
 *                  space's use before each GC minus after the one before)
 *   scavenges      per 10,000 calls, and their total pause per 10,000 calls
 *   other GCs      in the run (mark-compacts, incremental marking steps), and their pause
 *   CPU/call       this process's CPU per call (user + system)
 *   p50 / p99      the load generator's latency
 * The figures per call do not depend on the host's load (the latencies do). Compare young
 * generation sizes by running it with e.g. `--max-semi-space-size=4`; the flags this process
 * runs with are printed.
 *
 * Env: GC_IN_FLIGHT (8), GC_CONNECTIONS (4), GC_SECONDS (5) per measured run after a 2-s
 * warm-up, GC_ROUNDS (3).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import { startGatehouse } from "../src/app/gatehouse.js";
import { createLogger } from "../src/observability/logger.js";
import { benchConfig } from "./config.js";
import {
  AUDIENCE,
  createPki,
  enrollAgents,
  gateClient,
  login,
  SCOPE,
  toClientTls,
} from "./enroll.js";
import { resolveGoLoadgen, runGoLoad, writeTlsFiles } from "./go-load.js";
import { healthTarget, verifyTarget } from "./targets.js";

const inFlight = Number(process.env.GC_IN_FLIGHT ?? 8);
const connections = Number(process.env.GC_CONNECTIONS ?? 4);
const seconds = Number(process.env.GC_SECONDS ?? 5);
const rounds = Number(process.env.GC_ROUNDS ?? 3);

/** Every GC pause of this process (PerformanceObserver "gc" entries, delivered late). */
const seen: { readonly startMs: number; readonly minor: boolean; readonly ms: number }[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const { kind } = (entry as unknown as { readonly detail: { readonly kind: number } }).detail;
    seen.push({
      startMs: entry.startTime,
      minor: kind === constants.NODE_PERFORMANCE_GC_MINOR,
      ms: entry.duration,
    });
  }
}).observe({ entryTypes: ["gc"] });

/** The pauses that began within [fromMs, toMs), once their entries have been delivered. */
async function pausesWithin(fromMs: number, toMs: number) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const within = seen.filter((p) => p.startMs >= fromMs && p.startMs < toMs);
  seen.length = 0;
  const total = (pauses: typeof within) => pauses.reduce((sum, p) => sum + p.ms, 0);
  const scavenges = within.filter((p) => p.minor);
  const others = within.filter((p) => !p.minor);
  return {
    scavenges: scavenges.length,
    scavengeMs: total(scavenges),
    others: others.length,
    othersMs: total(others),
  };
}

type SpaceUse = { readonly spaceName: string; readonly spaceUsedSize: number };
const youngUse = (spaces: readonly SpaceUse[]) =>
  spaces.filter((s) => s.spaceName.startsWith("new")).reduce((sum, s) => sum + s.spaceUsedSize, 0);
const youngNow = () =>
  youngUse(
    v8.getHeapSpaceStatistics().map((s) => ({
      spaceName: s.space_name,
      spaceUsedSize: s.space_used_size,
    })),
  );

const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-gc-"));
const app = await startGatehouse({ config: benchConfig(dataDir), logger: createLogger("silent") });
try {
  const pki = await createPki(dataDir);
  const address = `127.0.0.1:${app.grpcPort}`;
  const [agent] = await enrollAgents(pki, address, 1);
  if (!agent) throw new Error("no agent enrolled");
  const client = gateClient(address, agent);
  const token = await login(client.gate, agent);
  client.channel.close();
  const go = await resolveGoLoadgen({ BENCH_LOADGEN: "go" });
  if (!go) throw new Error("bench/loadgen (Go) is required");
  const workDir = join(dataDir, "loadgen");
  const tls = await writeTlsFiles(workDir, toClientTls(pki, pki.verifier));
  const targets = [
    healthTarget,
    verifyTarget({ token, audience: AUDIENCE, scope: SCOPE, did: agent.did }),
  ];
  console.log(`flags: ${process.execArgv.join(" ")}; ${inFlight} in flight, ${seconds} s runs`);
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      let profiler: v8.GCProfiler | undefined;
      let youngAtStart = 0;
      let cpuAtStart = process.cpuUsage();
      let fromMs = 0;
      const load = { go, address, tls, workDir, connections, concurrency: inFlight };
      const result = await runGoLoad(
        target,
        { ...load, warmupSeconds: 2, seconds },
        {
          beforeMeasured: async () => {
            globalThis.gc?.();
            fromMs = performance.now();
            youngAtStart = youngNow();
            profiler = new v8.GCProfiler();
            profiler.start();
            cpuAtStart = process.cpuUsage();
          },
        },
      );
      const cpu = process.cpuUsage(cpuAtStart);
      const pauses = await pausesWithin(fromMs, performance.now());
      const gcs = profiler?.stop().statistics ?? [];
      let allocated = 0;
      let after = youngAtStart;
      for (const gc of gcs) {
        allocated += youngUse(gc.beforeGC.heapSpaceStatistics) - after;
        after = youngUse(gc.afterGC.heapSpaceStatistics);
      }
      allocated += youngNow() - after;
      const calls = Math.max(1, result.correct);
      const per10k = (value: number) => ((value * 10_000) / calls).toFixed(1);
      console.log(
        `round ${round} ${target.name.padEnd(6)} ${result.correct} calls (${result.errors} errors): ` +
          `young ${(allocated / calls).toFixed(0)} B/call; ` +
          `scavenges ${per10k(pauses.scavenges)} per 10k calls, ${per10k(pauses.scavengeMs)} ms; ` +
          `other GCs ${pauses.others}, ${pauses.othersMs.toFixed(1)} ms; ` +
          `CPU ${((cpu.user + cpu.system) / calls).toFixed(0)} µs/call; ` +
          `p50 ${result.latency.percentileMs(50)} p99 ${result.latency.percentileMs(99)} ms`,
      );
    }
  }
} finally {
  await app.stop();
  await rm(dataDir, { recursive: true, force: true });
}
