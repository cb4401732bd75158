/**
 * `npm run bench`: Verify throughput and latency against the empty-RPC ceiling, over gRPC
 * with mutual TLS, the server in its own process (bench/server.ts).
 *
 * Load: ONE client process, ONE thread, BENCH_CHANNELS channels (a TLS connection each),
 * BENCH_CONCURRENCY calls in flight. On a 2-core machine the server gets one core and the
 * client the other: a second client thread would take CPU from the server, which is what
 * limits Verify. A grpc-js client spends more CPU per call than the server does on an empty
 * RPC, though, so the health "ceiling" is bounded by the client: read the CPU columns, and
 * "server µs/call" (server CPU per correct answer), which does not depend on who the limit was.
 *
 * Env: BENCH_SECONDS (10) per measured run, BENCH_WARMUP_SECONDS (2), BENCH_CONCURRENCY (64),
 * BENCH_CHANNELS (4). Exits 1 when a measured run had any error.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { AUDIENCE, createPki, enrollAndLogin, SCOPE, toClientTls } from "./enroll.js";
import { type LoadResult, openChannels, runLoad, type Target } from "./load.js";
import { BENCH_TOKEN_TTL_SECONDS } from "./protocol.js";
import { type ServerProcess, type ServerUsage, spawnServer } from "./spawn-server.js";
import { healthTarget, verifyTarget } from "./targets.js";

const seconds = envNumber("BENCH_SECONDS", 10);
const warmupSeconds = envNumber("BENCH_WARMUP_SECONDS", 2);
const concurrency = Math.round(envNumber("BENCH_CONCURRENCY", 64));
const channelCount = Math.round(envNumber("BENCH_CHANNELS", 4));
const RUNS = 2;
if (RUNS * (warmupSeconds + seconds) > BENCH_TOKEN_TTL_SECONDS - 60) {
  throw new Error(
    `the runs would outlast the ${BENCH_TOKEN_TTL_SECONDS} s token; lower BENCH_SECONDS`,
  );
}

interface Summary {
  readonly sent: number;
  readonly correct: number;
  readonly errors: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Percent of one core. */
  readonly clientCpu: number;
  readonly serverCpu: number;
  /** Event-loop utilization, percent. */
  readonly clientElu: number;
  readonly serverElu: number;
  /** Server CPU time per correct answer, µs: the server's cost, whichever side was the limit. */
  readonly serverCpuUsPerCall: number;
  readonly errorKinds: Record<string, number>;
}

async function measure(target: Target, channels: grpc.Client[], server: ServerProcess) {
  const base = { channels, concurrency };
  const warmup = await runLoad(target, { ...base, durationMs: warmupSeconds * 1000 });
  if (warmup.errors > 0) {
    console.error(`warning: ${warmup.errors} errors during ${target.name} warm-up`);
  }
  const before = await server.usage();
  const result = await runLoad(target, { ...base, durationMs: seconds * 1000 });
  return summarize(result, before, await server.usage());
}

function summarize(result: LoadResult, before: ServerUsage, after: ServerUsage): Summary {
  const elapsedUs = result.elapsedMs * 1000;
  const serverCpuMicros = after.cpuMicros - before.cpuMicros;
  const active = after.elu.active - before.elu.active;
  const idle = after.elu.idle - before.elu.idle;
  return {
    sent: result.sent,
    correct: result.correct,
    errors: result.errors,
    rps: round((result.correct * 1000) / result.elapsedMs, 0),
    p50Ms: round(result.latency.percentileMs(50), 3),
    p99Ms: round(result.latency.percentileMs(99), 3),
    maxMs: round(result.latency.maxMs, 3),
    meanMs: round(result.latency.meanMs, 3),
    clientCpu: round((result.clientCpuMicros / elapsedUs) * 100, 0),
    serverCpu: round((serverCpuMicros / elapsedUs) * 100, 0),
    clientElu: round(result.clientElu * 100, 0),
    serverElu: round((active / (active + idle)) * 100, 0),
    serverCpuUsPerCall: round(serverCpuMicros / Math.max(1, result.correct), 0),
    errorKinds: Object.fromEntries(result.errorKinds),
  };
}

function printTable(results: Record<string, Summary>, ratio: number, costRatio: number): void {
  const header = [
    ...["run", "sent", "correct", "errors", "req/s", "p50 ms", "p99 ms", "max ms"],
    ...["client CPU (loop)", "server CPU (loop)", "server µs/call"],
  ];
  const rows = Object.entries(results).map(([name, r]) => [
    name,
    ...[r.sent, r.correct, r.errors, r.rps].map(String),
    ...[r.p50Ms, r.p99Ms, r.maxMs].map((ms) => ms.toFixed(2)),
    `${r.clientCpu}% (${r.clientElu}%)`,
    `${r.serverCpu}% (${r.serverElu}%)`,
    String(r.serverCpuUsPerCall),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ");
  console.log(
    `\nGatehouse gRPC bench: grpc-js over mTLS, ${concurrency} in flight on ${channelCount} ` +
      `channels (1 client thread), warm-up ${warmupSeconds} s, measured ${seconds} s each, ` +
      `${availableParallelism()} cores, Node ${process.version}\n`,
  );
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(`\nVerify / ceiling: ${ratio.toFixed(3)} (req/s of correct answers)`);
  console.log(`Server CPU per call, ceiling / Verify: ${costRatio.toFixed(3)}`);
  for (const [name, r] of Object.entries(results)) {
    for (const [kind, count] of Object.entries(r.errorKinds)) {
      console.log(`  ${name} error ×${count}: ${kind}`);
    }
  }
}

async function main(): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-bench-"));
  let server: ServerProcess | undefined;
  let channels: grpc.Client[] = [];
  try {
    const pki = await createPki(dataDir);
    server = await spawnServer(dataDir);
    const address = `127.0.0.1:${server.grpcPort}`;
    const { did, token } = await enrollAndLogin(pki, address);
    channels = await openChannels(address, toClientTls(pki, pki.verifier), channelCount);

    const results: Record<string, Summary> = {};
    const verify = verifyTarget({ token, audience: AUDIENCE, scope: SCOPE, did });
    for (const target of [healthTarget, verify]) {
      results[target.name] = await measure(target, channels, server);
    }
    const { health, verify: verified } = results;
    const ratio = health && verified && health.rps > 0 ? verified.rps / health.rps : 0;
    const costRatio =
      health && verified && verified.serverCpuUsPerCall > 0
        ? health.serverCpuUsPerCall / verified.serverCpuUsPerCall
        : 0;
    printTable(results, ratio, costRatio);
    const settings = { seconds, warmupSeconds, concurrency, channels: channelCount };
    const json = {
      ...settings,
      cores: availableParallelism(),
      node: process.version,
      results,
      ratio: round(ratio, 3),
      serverCostRatio: round(costRatio, 3),
    };
    console.log(`BENCH_JSON ${JSON.stringify(json)}`);
    return Object.values(results).some((r) => r.errors > 0) ? 1 : 0;
  } finally {
    for (const channel of channels) channel.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

process.exitCode = await main();
