import { fromBinary } from "@bufbuild/protobuf";
import { anyIs, anyUnpack } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import type { ServiceError } from "@grpc/grpc-js";
import { type ErrorDetail, ErrorDetailSchema, Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";

/** A failed Gatehouse call, whichever transport carried it. */
export class GatehouseClientError extends Error {
  constructor(
    message: string,
    /** gRPC / Connect status code. */
    readonly code: number,
    /** The typed reason from the ErrorDetail; REASON_UNSPECIFIED when the server sent none. */
    readonly reason: Reason,
    /** For INVALID_ARGUMENT: the field at fault. */
    readonly field: string,
  ) {
    super(message);
    this.name = "GatehouseClientError";
  }
}

/** Decodes `grpc-status-details-bin` from a grpc-js error. */
export function fromGrpcError(error: ServiceError): GatehouseClientError {
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  const detail = raw instanceof Buffer ? detailFromStatus(raw) : undefined;
  return new GatehouseClientError(
    error.details,
    error.code,
    detail?.reason ?? Reason.UNSPECIFIED,
    detail?.field ?? "",
  );
}

export function fromConnectError(error: unknown): GatehouseClientError | unknown {
  if (!(error instanceof ConnectError)) return error;
  const [detail] = error.findDetails(ErrorDetailSchema);
  return new GatehouseClientError(
    error.rawMessage,
    error.code,
    detail?.reason ?? Reason.UNSPECIFIED,
    detail?.field ?? "",
  );
}

export function detailFromStatus(raw: Buffer): ErrorDetail | undefined {
  try {
    const status = fromBinary(StatusSchema, raw);
    const packed = status.details.find((any) => anyIs(any, ErrorDetailSchema));
    return packed ? anyUnpack(packed, ErrorDetailSchema) : undefined;
  } catch {
    return undefined;
  }
}
