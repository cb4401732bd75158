/**
 * Unary load over Connect JSON (HTTP/2, mutual TLS) on the bench's closed loop
 * (bench/closed-loop.ts), in this process on node:http2: `concurrency` slots over
 * `connections` sessions, each POSTing the same JSON body. An answer is checked (parsed)
 * unless it is byte for byte one already found correct, so the client spends as little as
 * node:http2 allows.
 */
import * as http2 from "node:http2";
import type { ClientTls } from "../src/client/credentials.js";
import { closedLoop, type LoopOptions } from "./closed-loop.js";
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

export interface ConnectLoadOptions extends LoopOptions {
  readonly port: number;
  readonly tls: ClientTls;
  readonly connections: number;
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
  const headers = {
    ":method": "POST",
    ":path": target.path,
    "content-type": "application/json",
    "connect-protocol-version": "1",
  };
  let correctAnswer: Buffer | undefined;
  const judge = (status: number, answer: Buffer): string | undefined => {
    if (status !== 200) return `HTTP ${status}: ${answer.toString().slice(0, 200)}`;
    if (correctAnswer?.equals(answer)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.toString());
    } catch {
      return "answer is not JSON";
    }
    const problem = target.check(parsed);
    if (problem === undefined) correctAnswer = answer;
    return problem;
  };
  try {
    return await closedLoop((slot, settle) => {
      const session = sessions[slot % sessions.length];
      if (!session) throw new Error("no sessions");
      const stream = session.request(headers);
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on("response", (response) => {
        status = Number(response[":status"]);
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (error) => settle(`stream error: ${error.message}`));
      stream.on("close", () => settle(judge(status, Buffer.concat(chunks))));
      stream.end(target.body);
      return () => stream.close(http2.constants.NGHTTP2_CANCEL);
    }, options);
  } finally {
    for (const session of sessions) session.close();
  }
}
