/**
 * The Go load generator (bench/loadgen), driven from here: built once per bench run into
 * bench/.bin/loadgen, then one process per RPC scenario and one for the login run (its login
 * mode), which dials its own mTLS connections, warms up, waits while this process samples the
 * server (and writes fresh DPoP requests), then runs the measured phase. It uses
 * GOMAXPROCS=BENCH_LOADGEN_PROCS (1): one client core, like the grpc-js generator, so the
 * server keeps the other.
 *
 * BENCH_LOADGEN: `go` (required: fails when it cannot be built), `node` (grpc-js only), or
 * unset (Go when `go` is on the PATH and the build works, otherwise grpc-js).
 */
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ClientTls } from "../src/client/credentials.js";
import type { BenchAgent } from "./enroll.js";
import type { Generator, Latency, LoadResult, Target } from "./load.js";

const run = promisify(execFile);
const LOADGEN_DIR = fileURLToPath(new URL("./loadgen/", import.meta.url));
export const LOADGEN_BINARY = fileURLToPath(new URL("./.bin/loadgen", import.meta.url));

export interface GoLoadgen {
  readonly binary: string;
  /** GOMAXPROCS of the generator. */
  readonly procs: number;
}

/** Builds bench/loadgen when the Go generator is wanted and available; undefined for grpc-js. */
export async function resolveGoLoadgen(
  env: NodeJS.ProcessEnv = process.env,
): Promise<GoLoadgen | undefined> {
  const wanted = (env.BENCH_LOADGEN ?? "").trim().toLowerCase();
  if (wanted === "node") return undefined;
  if (wanted !== "" && wanted !== "go") {
    throw new Error(`BENCH_LOADGEN must be go or node, not ${wanted}`);
  }
  const procs = Math.round(Number(env.BENCH_LOADGEN_PROCS ?? "1"));
  if (!Number.isInteger(procs) || procs < 1) {
    throw new Error("BENCH_LOADGEN_PROCS must be a positive integer");
  }
  try {
    await run("go", ["build", "-o", LOADGEN_BINARY, "."], {
      cwd: LOADGEN_DIR,
      timeout: 300_000,
    });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    if (wanted === "go") {
      const detail = missing ? "go is not on the PATH" : String((error as Error).message);
      throw new Error(`BENCH_LOADGEN=go, but bench/loadgen does not build: ${detail}`);
    }
    if (!missing) console.error(`warning: bench/loadgen does not build, using grpc-js: ${error}`);
    return undefined;
  }
  return { binary: LOADGEN_BINARY, procs };
}

/** The generator a target runs on. */
export function generatorFor(target: Target, go: GoLoadgen | undefined): Generator {
  return go && target.goCheck ? "go" : "node";
}

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Writes a client identity as PEM files under `dir` for the Go generator. */
export async function writeTlsFiles(dir: string, tls: ClientTls): Promise<TlsFiles> {
  await mkdir(dir, { recursive: true });
  const files = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem"), ca: join(dir, "ca.pem") };
  await writeFile(files.cert, tls.cert);
  await writeFile(files.key, tls.key, { mode: 0o600 });
  await writeFile(files.ca, tls.ca);
  return files;
}

/** Bodies as the generator reads them: a 4-byte big-endian length, then the bytes; repeated. */
export async function writeBodies(path: string, bodies: readonly Buffer[]): Promise<void> {
  const parts: Buffer[] = [];
  for (const body of bodies) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    parts.push(length, body);
  }
  await writeFile(path, Buffer.concat(parts));
}

/** One phase as bench/loadgen prints it (a JSON line). */
interface GoPhase {
  readonly phase: "warmup" | "measured";
  readonly sent: number;
  readonly correct: number;
  readonly errors: number;
  readonly errorKinds: Record<string, number>;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  readonly clientCpuMicros: number;
  readonly bodies: number;
  readonly exhausted: boolean;
  /** GOMAXPROCS. */
  readonly procs: number;
}

export interface GoLoadResult extends LoadResult {
  /** `--once` runs: the bodies given, and whether they ran out before the end. */
  readonly bodies: number;
  readonly exhausted: boolean;
}

function toLoadResult(phase: GoPhase): GoLoadResult {
  const percentiles = new Map([
    [50, phase.p50Ms],
    [90, phase.p90Ms],
    [99, phase.p99Ms],
    [99.9, phase.p999Ms],
    [100, phase.maxMs],
  ]);
  const latency: Latency = {
    percentileMs: (p) => {
      const value = percentiles.get(p);
      if (value === undefined) throw new Error(`bench/loadgen reports no p${p}`);
      return value;
    },
    maxMs: phase.maxMs,
    meanMs: phase.meanMs,
  };
  return {
    sent: phase.sent,
    correct: phase.correct,
    errors: phase.errors,
    errorKinds: new Map(Object.entries(phase.errorKinds)),
    elapsedMs: phase.elapsedMs,
    latency,
    clientCpuMicros: phase.clientCpuMicros,
    clientElu: undefined,
    clientCores: phase.procs,
    generator: "go",
    bodies: phase.bodies,
    exhausted: phase.exhausted,
  };
}

/** What every bench/loadgen run needs: where to dial, and how long each phase is. */
interface GoPhaseOptions {
  readonly go: GoLoadgen;
  readonly address: string;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

export interface GoRunOptions extends GoPhaseOptions {
  readonly tls: TlsFiles;
  /** Where the request files go. */
  readonly workDir: string;
  readonly connections: number;
  readonly concurrency: number;
}

/**
 * A warm-up then a measured run on one bench/loadgen process. Before each phase, `prepare`
 * (the DPoP run makes its proofs there), then the phase's requests are written:
 * `target.bodies()` (each sent once) if given, else `target.request`; right before the
 * measured phase starts, `beforeMeasured` (the caller samples the server's CPU there).
 */
export async function runGoLoad(
  target: Target,
  options: GoRunOptions,
  hooks: {
    prepare?: (phase: "warmup" | "measured", warmup?: LoadResult) => void;
    beforeMeasured(): Promise<void>;
  },
): Promise<GoLoadResult> {
  const { goCheck } = target;
  if (!goCheck) throw new Error(`${target.name}: no check for the Go load generator`);
  const eachOnce = target.bodies !== undefined;
  const requestsFile = async (phase: string) => {
    const path = join(options.workDir, `${target.name}-${phase}.bin`);
    await writeBodies(path, target.bodies ? target.bodies() : [target.request]);
    return path;
  };
  hooks.prepare?.("warmup");
  const warmupFile = await requestsFile("warmup");
  const args = [
    ...["--cert", options.tls.cert, "--key", options.tls.key, "--ca", options.tls.ca],
    ...["--method", target.path, "--requests", warmupFile],
    ...["--connections", String(options.connections)],
    ...["--concurrency", String(options.concurrency)],
    ...(eachOnce ? ["--once"] : []),
    ...(goCheck.fields ?? []).flatMap((field) => ["--expect-field", field]),
    ...(goCheck.exactHex !== undefined ? ["--expect-hex", goCheck.exactHex] : []),
    ...(goCheck.reportFields ?? []).flatMap((field) => ["--report-field", field]),
  ];
  return driveLoadgen(target.name, options, args, async (warmup) => {
    hooks.prepare?.("measured", warmup);
    const measuredFile = eachOnce ? await requestsFile("measured") : undefined;
    await hooks.beforeMeasured();
    return measuredFile;
  });
}

/** One HTTP request, repeated, and what a correct answer carries (bench/loadgen/http.go). */
export interface GoHttpRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly expect: HttpExpectation;
}

/** A correct HTTP answer: this status, these headers (exact values), a body containing this. */
export interface HttpExpectation {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly bodyContains?: string;
}

/**
 * HTTP/2 requests on bench/loadgen (its HTTP mode), `concurrency` in flight over
 * `connections` connections, each answer checked (status, headers, body). `tls`: the CA, and
 * the client certificate when the request presents one.
 */
export async function runGoHttp(
  request: GoHttpRequest,
  options: GoPhaseOptions & {
    readonly tls: { readonly ca: string; readonly cert?: string; readonly key?: string };
    readonly workDir: string;
    readonly connections: number;
    readonly concurrency: number;
    beforeMeasured(): Promise<void>;
  },
): Promise<GoLoadResult> {
  const bodyFile = join(options.workDir, "http-body");
  if (request.body !== undefined) await writeFile(bodyFile, request.body);
  // In a file, not on the command line (`ps` shows arguments): they carry the bearer token.
  const headersFile = join(options.workDir, "http-headers");
  const headerLines = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}\n`);
  await writeFile(headersFile, headerLines.join(""), { mode: 0o600 });
  const { tls } = options;
  const { expect } = request;
  const args = [
    ...["--http", request.url, "--http-method", request.method, "--ca", tls.ca],
    ...(tls.cert !== undefined && tls.key !== undefined
      ? ["--cert", tls.cert, "--key", tls.key]
      : []),
    ...["--http-headers", headersFile],
    ...(request.body !== undefined ? ["--http-body", bodyFile] : []),
    ...["--expect-status", String(expect.status)],
    ...Object.entries(expect.headers ?? {}).flatMap(([name, value]) => [
      "--expect-header",
      `${name}=${value}`,
    ]),
    ...(expect.bodyContains !== undefined ? ["--expect-body", expect.bodyContains] : []),
    ...["--connections", String(options.connections), "--concurrency", String(options.concurrency)],
  ];
  return driveLoadgen(`HTTP ${request.method} ${request.url}`, options, args, async () => {
    await options.beforeMeasured();
    return undefined;
  });
}

/** What the agents of a login run ask for. */
export interface LoginRequest {
  readonly audience: string;
  readonly scopes: readonly string[];
  /**
   * `login` (default): Challenge → Submit → Token; `assertion`: the one-RPC grant, Token with
   * a fresh RFC 7523 assertion for `issuer` (bench/loadgen/assertion.go).
   */
  readonly grant?: "login" | "assertion";
  /** The Gatehouse issuer: the assertions' audience. */
  readonly issuer?: string;
}

/**
 * Full logins on bench/loadgen (its login mode): every agent on its own connection with its
 * own certificate, one login in flight each, Challenge → Submit → Token, signed in Go with the
 * agent's key (or, with `grant: "assertion"`, one Token with a fresh assertion each). The
 * agents file (their private keys) lives only as long as the run.
 */
export async function runGoLogins(
  agents: readonly BenchAgent[],
  request: LoginRequest,
  options: GoPhaseOptions & { beforeMeasured(): Promise<void> },
): Promise<GoLoadResult> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-bench-logins-"));
  try {
    const agentsFile = join(dir, "agents.json");
    await writeLoginAgents(agentsFile, agents, request);
    const args = ["--logins", agentsFile, "--grant", request.grant ?? "login"];
    return await driveLoadgen(request.grant ?? "login", options, args, async () => {
      await options.beforeMeasured();
      return undefined;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The agents file of bench/loadgen's login mode (bench/loadgen/login.go, loginFile). */
async function writeLoginAgents(
  path: string,
  agents: readonly BenchAgent[],
  request: LoginRequest,
): Promise<void> {
  const [first] = agents;
  if (!first) throw new Error("no agents to log in");
  const file = {
    ca: first.tls.ca.toString(),
    issuer: request.issuer ?? "",
    audience: request.audience,
    scopes: request.scopes,
    agents: agents.map((agent) => ({
      did: agent.did,
      cert: agent.tls.cert.toString(),
      key: agent.tls.key.toString(),
      signingKey: agent.key.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    })),
  };
  await writeFile(path, JSON.stringify(file), { mode: 0o600 });
}

/**
 * Runs bench/loadgen with `args` under the --control protocol: it dials, warms up and prints
 * the warm-up; then `beforeMeasured` runs (it may return a new requests file for the measured
 * phase) and the measured phase's result is returned.
 */
async function driveLoadgen(
  name: string,
  options: GoPhaseOptions,
  args: readonly string[],
  beforeMeasured: (warmup: GoLoadResult) => Promise<string | undefined>,
): Promise<GoLoadResult> {
  const child = spawn(
    options.go.binary,
    [
      ...["--addr", options.address, "--server-name", "localhost"],
      ...["--procs", String(options.go.procs)],
      ...["--warmup", `${options.warmupSeconds}s`, "--duration", `${options.seconds}s`],
      "--control",
      ...args,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = once(child, "exit");
  exited.catch(() => {}); // awaited below
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextPhase = async (phase: GoPhase["phase"]): Promise<GoLoadResult> => {
    const line = await lines.next();
    if (line.done) {
      const [code, signal] = await exited;
      throw new Error(`bench/loadgen exited (code ${code}, signal ${signal}) before ${phase}`);
    }
    const result = JSON.parse(line.value) as GoPhase;
    if (result.phase !== phase) throw new Error(`bench/loadgen: expected ${phase}`);
    return toLoadResult(result);
  };
  try {
    const warmup = await nextPhase("warmup");
    if (warmup.errors > 0) {
      console.error(`warning: ${warmup.errors} errors during ${name} warm-up (go)`);
    }
    const measuredFile = await beforeMeasured(warmup);
    child.stdin.end(measuredFile ? `measure ${measuredFile}\n` : "measure\n");
    const measured = await nextPhase("measured");
    const [code] = await exited;
    if (code !== 0) throw new Error(`bench/loadgen exited with code ${code}`);
    return measured;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}
