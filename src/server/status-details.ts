import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { type ErrorDetail, ErrorDetailSchema } from "../../gen/gatehouse/v1/errors_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { catalogEntry, type GatehouseError } from "../errors/index.js";

/** The typed detail every failed RPC carries. */
export function errorDetail(error: GatehouseError): ErrorDetail {
  return create(ErrorDetailSchema, {
    reason: error.reason,
    field: error.field,
    description: error.description,
    retryAfterMs: error.retryAfterMs,
    dpopNonce: error.dpopNonce,
  });
}

/**
 * The `grpc-status-details-bin` trailer: a binary google.rpc.Status whose details hold the
 * ErrorDetail, the convention gRPC clients in every language decode.
 */
export function grpcStatusDetails(error: GatehouseError): Buffer {
  const status = create(StatusSchema, {
    code: catalogEntry(error.reason).code,
    message: error.message,
    details: [anyPack(ErrorDetailSchema, errorDetail(error))],
  });
  return Buffer.from(toBinary(StatusSchema, status));
}
