/**
 * A closed-loop unary load over Connect JSON (HTTP/2, mutual TLS), in this process on
 * node:http2: `concurrency` slots over `connections` sessions, each POSTing the same JSON
 * body as soon as its previous call answered. An answer is checked (parsed) unless it is byte
 * for byte one already found correct, so the client spends as little as node:http2 allows.
 */
import * as http2 from "node:http2";
import { performance } from "node:perf_hooks";
import type { ClientTls } from "../src/client/credentials.js";
import { Histogram } from "./histogram.js";
import type { LoadResult } from "./load.js";

export interface ConnectTarget {
  readonly name: string;
  /** `/package.Service/Method`. */
  readonly path: string;
  /** The request as Connect JSON. */
  readonly body: Buffer;
  /** undefined when the parsed JSON answer is correct, otherwise what is wrong with it. */
  check(answer: unknown): string | undefined;
}

export interface ConnectLoadOptions {
  readonly port: number;
  readonly tls: ClientTls;
  readonly connections: number;
  readonly concurrency: number;
  readonly durationMs: number;
}

/** `count` HTTP/2 sessions to the Connect port, each connected. */
async function openSessions(port: number, tls: ClientTls, count: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const session = http2.connect(`https://localhost:${port}`, {
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
      });
      await new Promise<void>((resolve, reject) => {
        session.once("connect", () => resolve());
        session.once("error", reject);
      });
      return session;
    }),
  );
}

export async function runConnectLoad(
  target: ConnectTarget,
  options: ConnectLoadOptions,
): Promise<LoadResult> {
  const sessions = await openSessions(options.port, options.tls, options.connections);
  const latency = new Histogram();
  const errorKinds = new Map<string, number>();
  const fail = (kind: string) => errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  const headers = {
    ":method": "POST",
    ":path": target.path,
    "content-type": "application/json",
    "connect-protocol-version": "1",
  };
  let correctAnswer: Buffer | undefined;
  let sent = 0;
  let correct = 0;
  let inFlight = 0;
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const start = performance.now();
  const stopAt = start + options.durationMs;
  try {
    return await new Promise<LoadResult>((resolve) => {
      const finish = (end: number) => {
        const cpu = process.cpuUsage(cpuBefore);
        resolve({
          sent,
          correct,
          errors: sent - correct,
          errorKinds,
          elapsedMs: end - start,
          latency,
          clientCpuMicros: cpu.user + cpu.system,
          clientElu: performance.eventLoopUtilization(eluBefore).utilization,
          generator: "node",
        });
      };
      const judge = (status: number, answer: Buffer): string | undefined => {
        if (status !== 200) return `HTTP ${status}: ${answer.toString().slice(0, 200)}`;
        if (correctAnswer?.equals(answer)) return undefined;
        const problem = target.check(JSON.parse(answer.toString()));
        if (problem === undefined) correctAnswer = answer;
        return problem;
      };
      const issue = (slot: number) => {
        const session = sessions[slot % sessions.length];
        if (!session) throw new Error("no sessions");
        const began = performance.now();
        sent += 1;
        inFlight += 1;
        const stream = session.request(headers);
        let status = 0;
        const chunks: Buffer[] = [];
        stream.on("response", (response) => {
          status = Number(response[":status"]);
        });
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("error", (error) => fail(`stream error: ${error.message}`));
        stream.on("close", () => {
          const now = performance.now();
          inFlight -= 1;
          const problem = judge(status, Buffer.concat(chunks));
          if (problem === undefined) {
            correct += 1;
            latency.record(now - began);
          } else {
            fail(problem);
          }
          if (now < stopAt) issue(slot);
          else if (inFlight === 0) finish(now);
        });
        stream.end(target.body);
      };
      for (let slot = 0; slot < options.concurrency; slot++) issue(slot);
    });
  } finally {
    for (const session of sessions) session.close();
  }
}
