/**
 * The iterated-hash check's cost per round (src/challenges/iterated-hash/iterate.ts, each
 * round the generated `sha256Digest`) against Python's hashlib (`hashlib.sha256(h).digest()`,
 * OpenSSL underneath) over the same 1,000 rounds, in alternating runs so that both see the
 * same machine; medians of the rounds.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { iteratedSha256 } from "../../src/challenges/iterated-hash/iterate.js";
import { round } from "../report.js";

const run = promisify(execFile);
const ROUNDS_PER_CHECK = 1_000;
const CHECKS_PER_RUN = 500;
const ALTERNATIONS = 5;

const PYTHON = `
import hashlib, time
seed = bytes(range(32))
for _ in range(20):
    h = seed
    for _ in range(${ROUNDS_PER_CHECK}): h = hashlib.sha256(h).digest()
start = time.perf_counter()
for _ in range(${CHECKS_PER_RUN}):
    h = seed
    for _ in range(${ROUNDS_PER_CHECK}): h = hashlib.sha256(h).digest()
print((time.perf_counter() - start) * 1e9 / (${CHECKS_PER_RUN} * ${ROUNDS_PER_CHECK}))
`;

export interface IteratedHashRound {
  /** Median nanoseconds per SHA-256 round. */
  readonly gatehouseNs: number;
  readonly pythonNs: number;
  /** python ÷ gatehouse: above 1, Gatehouse's round is faster. */
  readonly speedup: number;
  readonly python: string;
}

export async function compareIteratedHash(): Promise<IteratedHashRound> {
  const seed = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  for (let i = 0; i < 20; i++) iteratedSha256(seed, ROUNDS_PER_CHECK); // warm-up (JIT)
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < ALTERNATIONS; i++) {
    const start = process.hrtime.bigint();
    for (let check = 0; check < CHECKS_PER_RUN; check++) iteratedSha256(seed, ROUNDS_PER_CHECK);
    ours.push(Number(process.hrtime.bigint() - start) / (CHECKS_PER_RUN * ROUNDS_PER_CHECK));
    const { stdout } = await run("python3", ["-c", PYTHON], { timeout: 120_000 });
    theirs.push(Number(stdout.trim()));
  }
  const { stdout: version } = await run("python3", ["--version"]);
  const gatehouseNs = round(median(ours), 0);
  const pythonNs = round(median(theirs), 0);
  return {
    gatehouseNs,
    pythonNs,
    speedup: round(pythonNs / gatehouseNs, 2),
    python: version.trim(),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
