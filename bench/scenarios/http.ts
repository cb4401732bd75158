/**
 * The HTTP sidecar under load, over HTTP/2 with TLS on as many connections as the gRPC runs
 * use: forward-auth (`/auth`, as a proxy asks it, a cached bearer token) and REST Verify
 * (`POST /v1/tokens:verify` with the verifier's certificate). Only correct answers count:
 * 200 with the agent's identity, `allowed: true`.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import * as http2 from "node:http2";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import type { ClientTls } from "../../src/client/credentials.js";
import { runTasks } from "../async-load.js";
import { type Summary, summarize } from "../report.js";
import type { SidecarOptions } from "../sidecar.js";
import type { ServerProcess } from "../spawn-server.js";

const SIDECAR_SCRIPT = fileURLToPath(new URL("../sidecar.ts", import.meta.url));

export interface BenchSidecar {
  readonly url: string;
  stop(): Promise<void>;
}

export async function spawnSidecar(
  dataDir: string,
  options: SidecarOptions,
): Promise<BenchSidecar> {
  const child: ChildProcess = fork(SIDECAR_SCRIPT, [dataDir, JSON.stringify(options)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [message] = (await Promise.race([
    once(child, "message"),
    once(child, "exit").then(() => {
      throw new Error("bench sidecar exited early");
    }),
  ])) as [{ port: number }];
  return {
    url: `https://127.0.0.1:${message.port}`,
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
    headers: {
      ":method": "GET",
      ":path": "/auth",
      "x-original-method": "GET",
      "x-original-uri": "/orders/1",
      "x-forwarded-host": "bench.test",
      authorization: `Bearer ${route.token}`,
    },
    correct: (status, headers) =>
      status === 200 && headers["x-gatehouse-agent"] === route.did ? undefined : `status ${status}`,
  };
}

export function restVerifyRequest(route: HttpRoute): HttpRequestSpec {
  return {
    tls: route.verifierTls,
    headers: {
      ":method": "POST",
      ":path": "/v1/tokens:verify",
      "content-type": "application/json",
    },
    body: JSON.stringify({
      token: route.token,
      audience: route.audience,
      requiredScopes: [route.scope],
    }),
    correct: (status, _headers, body) =>
      status === 200 && body.includes('"allowed":true') ? undefined : `status ${status}`,
  };
}

export interface HttpRequestSpec {
  readonly tls?: ClientTls;
  readonly headers: http2.OutgoingHttpHeaders;
  readonly body?: string;
  readonly correct: (
    status: number,
    headers: http2.IncomingHttpHeaders,
    body: string,
  ) => string | undefined;
}

/** A warm-up, then a measured run; the server's CPU is Gatehouse's (not the sidecar's). */
export async function measureHttp(spec: HttpRequestSpec, run: HttpRun): Promise<Summary> {
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
    const before = await run.server.usage({ collectFirst: true });
    const result = await runTasks(task, { ...options, durationMs: run.seconds * 1000 });
    return summarize(result, run.inFlight, before, await run.server.usage());
  } finally {
    for (const session of sessions) session.close();
  }
}

function request(session: http2.ClientHttp2Session, spec: HttpRequestSpec) {
  return new Promise<string | undefined>((resolve, reject) => {
    const stream = session.request(spec.headers);
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (head) => {
      headers = head;
      status = Number(head[":status"]);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () =>
      resolve(spec.correct(status, headers, Buffer.concat(chunks).toString())),
    );
    stream.on("error", reject);
    stream.end(spec.body);
  });
}
