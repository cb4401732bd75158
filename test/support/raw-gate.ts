import {
  create,
  type DescMessage,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { anyIs, anyUnpack } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import type { ClientTls } from "../../clients/typescript/src/index.js";
import { createGrpcChannel, createMtlsTransport } from "../../clients/typescript/src/index.js";
import { ErrorDetailSchema, Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import type { GateLike } from "./flows.js";
import type { TestGatehouse } from "./gatehouse.js";

export type GateTransport = "grpc" | "connect";

/** Everything a refusal carries, including what GatehouseClientError leaves out. */
export class Refusal extends Error {
  constructor(
    readonly code: number,
    readonly reason: Reason,
    /** ErrorDetail.retry_after_ms. */
    readonly retryAfterMs: number,
    /** The `retry-after` response metadata (gRPC trailer, Connect header). */
    readonly retryAfter: string | undefined,
  ) {
    super(`refused: ${Reason[reason]} (code ${code})`);
    this.name = "Refusal";
  }
}

export type RawGate = Pick<GateLike, "challenge" | "submit"> & { close(): void };

/** Challenge and Submit on one transport; a failed call rejects with a Refusal. */
/** Where a Gatehouse listens: a TestGatehouse, or a spawned `gatehouse` process. */
export type GateAddresses = Pick<TestGatehouse, "grpcAddress" | "connectUrl">;

export function rawGate(gh: GateAddresses, tls: ClientTls, transport: GateTransport): RawGate {
  return transport === "grpc" ? grpcGate(gh, tls) : connectGate(gh, tls);
}

function connectGate(gh: GateAddresses, tls: ClientTls): RawGate {
  const client = createClient(GateService, createMtlsTransport(gh.connectUrl, tls));
  const refused = (error: unknown): never => {
    if (!(error instanceof ConnectError)) throw error;
    const [detail] = error.findDetails(ErrorDetailSchema);
    const retryAfter = error.metadata.get("retry-after") ?? undefined;
    throw new Refusal(error.code, detail?.reason ?? 0, detail?.retryAfterMs ?? 0, retryAfter);
  };
  return {
    challenge: (request) => client.challenge(request).catch(refused),
    submit: (request) => client.submit(request).catch(refused),
    close: () => {},
  };
}

function grpcGate(gh: GateAddresses, tls: ClientTls): RawGate {
  const channel = createGrpcChannel(gh.grpcAddress, tls);
  const unary =
    <I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>) =>
    (request: MessageInitShape<I>) =>
      new Promise<MessageShape<O>>((resolve, reject) => {
        channel.makeUnaryRequest(
          `/${GateService.typeName}/${method.name}`,
          (value: MessageShape<I>) => Buffer.from(toBinary(method.input, value)),
          (bytes: Buffer) => fromBinary(method.output, bytes),
          create(method.input, request),
          new grpc.Metadata(),
          { deadline: Date.now() + 10_000 },
          (error, response) => {
            if (error) reject(grpcRefusal(error));
            else if (response) resolve(response);
          },
        );
      });
  return {
    challenge: unary(GateService.method.challenge),
    submit: unary(GateService.method.submit),
    close: () => channel.close(),
  };
}

function grpcRefusal(error: grpc.ServiceError): Refusal {
  const raw = error.metadata.get("grpc-status-details-bin")[0];
  const status = raw instanceof Buffer ? fromBinary(StatusSchema, raw) : undefined;
  const packed = status?.details.find((any) => anyIs(any, ErrorDetailSchema));
  const detail = packed ? anyUnpack(packed, ErrorDetailSchema) : undefined;
  const retryAfter = error.metadata.get("retry-after")[0];
  return new Refusal(
    error.code,
    detail?.reason ?? 0,
    detail?.retryAfterMs ?? 0,
    retryAfter === undefined ? undefined : String(retryAfter),
  );
}
