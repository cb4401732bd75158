/**
 * Unary load over grpc-js on the bench's closed loop (bench/closed-loop.ts), spread over
 * several channels, and the types every load generator reports in. Requests are
 * pre-serialized bytes and responses are checked as bytes, so the client spends as little CPU
 * per call as grpc-js allows.
 */
import * as grpc from "@grpc/grpc-js";
import type { ClientTls } from "../src/client/credentials.js";
import { closedLoop, type LoopOptions } from "./closed-loop.js";

/**
 * The check of a Target's responses as the Go load generator (bench/loadgen) takes it: field
 * checks on the raw protobuf (`1=1`, `3=s:TEXT`, `3.2.1{1=s:KEY,2=s:VALUE}`; see
 * bench/loadgen/check.go), and/or the exact bytes. Must accept exactly what `check` accepts.
 */
export interface GoCheck {
  readonly fields?: readonly string[];
  readonly exactHex?: string;
  /** Fields whose values are added to a wrong answer's error kind (e.g. a denial reason). */
  readonly reportFields?: readonly string[];
}

export interface Target {
  readonly name: string;
  /** `/package.Service/Method`. */
  readonly path: string;
  /** The serialized request, sent as-is on every call (unless `next` is given). */
  readonly request: Buffer;
  /** A fresh serialized request per call (e.g. a new DPoP proof each time); wins over `request`. */
  readonly next?: () => Buffer;
  /** undefined when the response is the correct answer, otherwise what is wrong with it. */
  check(response: Buffer): string | undefined;
  /** The same check for the Go load generator; without it the target runs on grpc-js. */
  readonly goCheck?: GoCheck;
  /**
   * For the Go load generator: the distinct requests for the next phase, each sent once
   * (called after `prepare`); wins over `request`. The Node generator uses `next` instead.
   */
  readonly bodies?: () => readonly Buffer[];
}

/** What a run reports of its latencies (the Node generator's Histogram, or Go's figures). */
export interface Latency {
  percentileMs(percentile: number): number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export interface LoadOptions extends LoopOptions {
  readonly channels: readonly grpc.Client[];
}

export interface LoadResult {
  readonly sent: number;
  readonly correct: number;
  readonly errors: number;
  /** Error description → count. */
  readonly errorKinds: ReadonlyMap<string, number>;
  /** From the first call to the last answer. */
  readonly elapsedMs: number;
  /** Latency of the correct answers. */
  readonly latency: Latency;
  /**
   * CPU time (user + system) of the load generator's process, µs, and its event-loop
   * utilization (0–1; undefined for the Go generator, which has no event loop).
   */
  readonly clientCpuMicros: number;
  readonly clientElu: number | undefined;
  /** Cores the load generator may use (1 in this process; GOMAXPROCS for bench/loadgen). */
  readonly clientCores: number;
  /** Which load generator produced it. */
  readonly generator: Generator;
}

export type Generator = "node" | "go";

/**
 * A grpc-js channel with mutual TLS and a connection of its own: grpc-js pools subchannels
 * globally by target and options, so without a local pool every channel would share one
 * HTTP/2 connection. The server certificate names `localhost` as well as 127.0.0.1; asking
 * for that name avoids Node's warning about IP addresses as TLS server names.
 */
export function openChannel(address: string, tls: ClientTls): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createSsl(tls.ca, tls.key, tls.cert), {
    "grpc.use_local_subchannel_pool": 1,
    "grpc.ssl_target_name_override": "localhost",
  });
}

/** `count` channels, each connected. */
export async function openChannels(
  address: string,
  tls: ClientTls,
  count: number,
): Promise<grpc.Client[]> {
  const channels = Array.from({ length: count }, () => openChannel(address, tls));
  await Promise.all(
    channels.map(
      (channel) =>
        new Promise<void>((resolve, reject) =>
          channel.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
        ),
    ),
  );
  return channels;
}

const passBytes = (bytes: Buffer): Buffer => bytes;

/** `target` over grpc-js, one closed loop of `concurrency` calls spread over the channels. */
export function runLoad(target: Target, options: LoadOptions): Promise<LoadResult> {
  const { channels } = options;
  return closedLoop((slot, settle) => {
    const channel = channels[slot % channels.length];
    if (!channel) throw new Error("no channels");
    const call = channel.makeUnaryRequest(
      target.path,
      passBytes,
      passBytes,
      target.next ? target.next() : target.request,
      new grpc.Metadata(),
      {},
      (error, response) => {
        if (error) settle(`${grpc.status[error.code] ?? error.code}: ${error.details}`);
        else settle(response ? target.check(response) : "empty response");
      },
    );
    return () => call.cancel();
  }, options);
}
