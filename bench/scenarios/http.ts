/**
 * The HTTP sidecar under load, over HTTP/2 with TLS on as many connections as the gRPC runs
 * use, on the same generator as the gRPC runs they are compared with (bench/loadgen's HTTP
 * mode when the Go generator is in use, node:http2 otherwise): forward-auth (`/auth`, as a
 * proxy asks it, a cached bearer token) and REST Verify (`POST /v1/tokens:verify` with the
 * verifier's certificate). Only correct answers count: 200 with the agent's identity,
 * `allowed: true`.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import * as http2 from "node:http2";
import { join } from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import type { ClientTls } from "../../src/client/credentials.js";
import { runTasks } from "../async-load.js";
import { type GoLoadgen, type HttpExpectation, runGoHttp, writeTlsFiles } from "../go-load.js";
import { type Summary, summarize } from "../report.js";
import type { SidecarOptions } from "../sidecar.js";
import { type ServerProcess, type ServerUsage, serverNodeFlags } from "../spawn-server.js";

const SIDECAR_SCRIPT = fileURLToPath(new URL("../sidecar.ts", import.meta.url));
/** The upstream path's floor (bench/proxy-floor.ts): same arguments, same IPC. */
export const PROXY_FLOOR_SCRIPT = fileURLToPath(new URL("../proxy-floor.ts", import.meta.url));

export interface BenchSidecar {
  /** The process the bench forked (with workers, their primary). */
  readonly pid: number;
  readonly url: string;
  /** The sidecar's cumulative CPU and event-loop use (with workers, all its processes). */
  usage(): Promise<ServerUsage>;
  stop(): Promise<void>;
}

/**
 * The sidecar (bench/sidecar.ts; `options.workers` processes), or with `script` another front
 * with the same IPC. It runs with the server's node flags, as the container image runs every
 * command and as a `--workers` primary forks its workers: one process and several compare
 * like for like.
 */
export async function spawnSidecar(
  dataDir: string,
  options: SidecarOptions,
  script = SIDECAR_SCRIPT,
): Promise<BenchSidecar> {
  const child: ChildProcess = fork(script, [dataDir, JSON.stringify(options)], {
    execArgv: ["--import", "tsx", ...serverNodeFlags()],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [message] = (await Promise.race([
    once(child, "message"),
    once(child, "exit").then(() => {
      throw new Error("bench sidecar exited early");
    }),
  ])) as [{ port: number }];
  return {
    pid: child.pid ?? 0,
    url: `https://127.0.0.1:${message.port}`,
    async usage() {
      const answer = once(child, "message") as Promise<[ServerUsage]>;
      child.send({ type: "usage" });
      const [usage] = await answer;
      return usage;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = once(child, "exit");
      child.send({ type: "stop" });
      await gone;
    },
  };
}

export interface HttpRun {
  readonly sidecar: BenchSidecar;
  readonly ca: string;
  readonly inFlight: number;
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly server: ServerProcess;
  /** The Go generator, when in use (as for the gRPC runs these are compared with). */
  readonly go?: { readonly loadgen: GoLoadgen; readonly workDir: string };
}

export interface HttpRoute {
  readonly token: string;
  readonly audience: string;
  readonly scope: string;
  readonly did: string;
  readonly verifierTls: ClientTls;
}

export function forwardAuthRequest(route: HttpRoute): HttpRequestSpec {
  return {
    method: "GET",
    path: "/auth",
    headers: {
      "x-original-method": "GET",
      "x-original-uri": "/orders/1",
      "x-forwarded-host": "bench.test",
      authorization: `Bearer ${route.token}`,
    },
    expect: { status: 200, headers: { "x-gatehouse-agent": route.did } },
  };
}

export function restVerifyRequest(route: HttpRoute): HttpRequestSpec {
  return {
    tls: route.verifierTls,
    method: "POST",
    path: "/v1/tokens:verify",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      token: route.token,
      audience: route.audience,
      requiredScopes: [route.scope],
    }),
    expect: { status: 200, bodyContains: '"allowed":true' },
  };
}

/** One request, repeated, and what a correct answer carries; the same for both generators. */
export interface HttpRequestSpec {
  /** The client certificate, when the request presents one. */
  readonly tls?: ClientTls;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly expect: HttpExpectation;
}

/**
 * A warm-up, then a measured run. The server's CPU is everything that serves the request:
 * Gatehouse's processes and the sidecar's together (the sidecar is the bottleneck of the
 * upstream path: it spends more CPU per call than Gatehouse does).
 */
export async function measureHttp(spec: HttpRequestSpec, run: HttpRun): Promise<Summary> {
  return run.go ? measureHttpOnGo(spec, run, run.go) : measureHttpOnNode(spec, run);
}

async function measureHttpOnGo(
  spec: HttpRequestSpec,
  run: HttpRun,
  go: NonNullable<HttpRun["go"]>,
): Promise<Summary> {
  const dir = join(go.workDir, "http");
  await mkdir(dir, { recursive: true });
  // The client certificate when the request presents one (REST), else the CA alone.
  const tls = spec.tls ? await writeTlsFiles(dir, spec.tls) : { ca: join(dir, "ca.pem") };
  if (!spec.tls) await writeFile(tls.ca, run.ca);
  let before: ServerUsage | undefined;
  const result = await runGoHttp(
    {
      url: new URL(spec.path, run.sidecar.url).href,
      method: spec.method,
      headers: spec.headers,
      ...(spec.body !== undefined && { body: spec.body }),
      expect: spec.expect,
    },
    {
      go: go.loadgen,
      address: new URL(run.sidecar.url).host,
      warmupSeconds: run.warmupSeconds,
      seconds: run.seconds,
      tls,
      workDir: dir,
      connections: Math.min(run.inFlight, run.connections),
      concurrency: run.inFlight,
      beforeMeasured: async () => {
        before = await servingUsage(run, true);
      },
    },
  );
  if (!before) throw new Error("no usage before the measured HTTP run");
  return summarize(result, run.inFlight, before, await servingUsage(run, false));
}

async function measureHttpOnNode(spec: HttpRequestSpec, run: HttpRun): Promise<Summary> {
  const { hostname, port } = new URL(run.sidecar.url);
  // Nagle off, as a proxy's upstream connection has it (nginx: tcp_nodelay on).
  const connect = () =>
    tls
      .connect({
        host: hostname,
        port: Number(port),
        ca: run.ca,
        ALPNProtocols: ["h2"],
        ...(spec.tls && { cert: spec.tls.cert, key: spec.tls.key }),
      })
      .setNoDelay(true);
  const sessions = Array.from({ length: Math.min(run.inFlight, run.connections) }, () =>
    http2.connect(run.sidecar.url, { createConnection: connect }),
  );
  try {
    const task = (slot: number) =>
      request(sessions[slot % sessions.length] as http2.ClientHttp2Session, spec);
    const options = { concurrency: run.inFlight };
    await runTasks(task, { ...options, durationMs: run.warmupSeconds * 1000 });
    const before = await servingUsage(run, true);
    const result = await runTasks(task, { ...options, durationMs: run.seconds * 1000 });
    return summarize(result, run.inFlight, before, await servingUsage(run, false));
  } finally {
    for (const session of sessions) session.close();
  }
}

/** Gatehouse's and the sidecar's usage, summed. */
async function servingUsage(run: HttpRun, collectFirst: boolean): Promise<ServerUsage> {
  const [server, sidecar] = await Promise.all([
    run.server.usage({ collectFirst }),
    run.sidecar.usage(),
  ]);
  const idle = server.elu.idle + sidecar.elu.idle;
  const active = server.elu.active + sidecar.elu.active;
  return {
    cpuMicros: server.cpuMicros + sidecar.cpuMicros,
    elu: { idle, active, utilization: active / Math.max(1, idle + active) },
  };
}

function request(session: http2.ClientHttp2Session, spec: HttpRequestSpec) {
  return new Promise<string | undefined>((resolve, reject) => {
    const stream = session.request({ ":method": spec.method, ":path": spec.path, ...spec.headers });
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (head) => {
      headers = head;
      status = Number(head[":status"]);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () =>
      resolve(httpProblem(spec.expect, status, headers, Buffer.concat(chunks).toString())),
    );
    stream.on("error", reject);
    stream.end(spec.body);
  });
}

/** What is wrong with an answer, as bench/loadgen/http.go says it; undefined when correct. */
export function httpProblem(
  expect: HttpExpectation,
  status: number,
  headers: http2.IncomingHttpHeaders,
  body: string,
): string | undefined {
  if (status !== expect.status) return `status ${status}`;
  for (const [name, value] of Object.entries(expect.headers ?? {})) {
    if (headers[name] !== value) return `header ${name}: got ${JSON.stringify(headers[name])}`;
  }
  if (expect.bodyContains !== undefined && !body.includes(expect.bodyContains)) {
    return `body lacks ${JSON.stringify(expect.bodyContains)}`;
  }
  return undefined;
}
