/**
 * The upstream sidecar's floor, in a process of its own (`fork` with `--import tsx`, as
 * bench/sidecar.ts runs the sidecar, with the same arguments and IPC): the least work any
 * Node HTTP front can do for forward-auth by asking Gatehouse. Per request it keeps only the
 * hop itself:
 *   - an HTTP/2 + TLS server (node:http2's stream API, the sidecar's server certificate);
 *   - the bearer token from `authorization`, a VerifyRequest for the route's audience and
 *     scope encoded with the generated protobuf-es code;
 *   - one unary Verify to Gatehouse over grpc-js (mutual TLS, the verifier's certificate, one
 *     channel), the response decoded; 200 with `x-gatehouse-agent` when allowed, 401 if not.
 * No routes, no proxy signature, no limits, no cache, no logs: what it costs is the bound the
 * two processes and their two transports put on the upstream path on this machine. With
 * `workers` > 1, that many such processes on one port (bench/worker-group.ts, as the sidecar
 * runs them), so the floor has the cores the sidecar has.
 */
import cluster from "node:cluster";
import * as http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { VerifyRequestSchema, VerifyResponseSchema } from "../gen/gatehouse/v1/verify_pb.js";
import { createPki } from "./enroll.js";
import type { SidecarOptions } from "./sidecar.js";
import { serveForBench, superviseForBench } from "./worker-group.js";

const [dataDir, raw] = process.argv.slice(2);
if (!dataDir || !raw || !process.send) {
  throw new Error("usage: fork bench/proxy-floor.ts <dataDir> <options>");
}
const options = JSON.parse(raw) as SidecarOptions;
const workers = options.workers ?? 1;
/** What a floor process listens on (its worker's announcement, read back by the primary). */
const listeningOf = (from: unknown) => ({ port: Number((from as { port?: unknown })?.port) });
const ready = ({ port }: { port: number }) => ({ type: "ready", port });
if (workers > 1 && cluster.isPrimary) {
  await superviseForBench(
    { count: workers, graceMs: 2_000, name: "floor worker", listening: listeningOf },
    ready,
  );
} else {
  await serveFloor(dataDir);
}

async function serveFloor(dataDir: string): Promise<void> {
  const pki = await createPki(dataDir);
  const credentials = grpc.credentials.createSsl(
    Buffer.from(pki.ca.certPem),
    Buffer.from(pki.verifier.keyPem),
    Buffer.from(pki.verifier.certPem),
  );
  const upstream = new grpc.Client(options.upstream, credentials, {
    "grpc.ssl_target_name_override": "localhost",
    "grpc.enable_channelz": 0,
  });
  const identity = (value: Buffer) => value;

  function verify(token: string): Promise<string | undefined> {
    const request = toBinary(
      VerifyRequestSchema,
      create(VerifyRequestSchema, {
        token,
        audience: options.audience,
        requiredScopes: [options.scope],
      }),
    );
    return new Promise((resolve, reject) =>
      upstream.makeUnaryRequest(
        "/gatehouse.v1.VerifyService/Verify",
        identity,
        identity,
        Buffer.from(request),
        (error, bytes) => {
          if (error || !bytes) return reject(error ?? new Error("no Verify response"));
          const response = fromBinary(VerifyResponseSchema, bytes);
          resolve(response.allowed ? response.agentDid : undefined);
        },
      ),
    );
  }

  const server = http2.createSecureServer({ key: pki.server.keyPem, cert: pki.server.certPem });
  server.on("stream", (stream, headers) => {
    const authorization = headers.authorization ?? "";
    const token = authorization.startsWith("Bearer ") ? authorization.slice(7) : "";
    verify(token).then(
      (did) => {
        if (stream.destroyed) return;
        if (did) stream.respond({ ":status": 200, "x-gatehouse-agent": did }, { endStream: true });
        else stream.respond({ ":status": 401 }, { endStream: true });
      },
      () => {
        if (!stream.destroyed) stream.respond({ ":status": 503 }, { endStream: true });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const stop = () =>
    new Promise<void>((resolve) => {
      upstream.close();
      server.close(() => resolve());
      setTimeout(resolve, 2_000).unref();
    });
  await serveForBench({ listening: { port }, stop }, ready);
}
