import { fromBinary } from "@bufbuild/protobuf";
import { anyIs, anyUnpack } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import type { ServiceError } from "@grpc/grpc-js";
import {
  type ErrorDetail,
  ErrorDetailSchema,
  Reason,
} from "../../../gen/gatehouse/v1/errors_pb.js";
import { StatusSchema } from "../../../gen/google/rpc/status_pb.js";

export { Reason };

/** What a refusal says besides its reason: each part only when the server sent it. */
export interface GatehouseErrorHints {
  /** For INVALID_ARGUMENT: the request field at fault (dotted proto path). */
  readonly field?: string;
  /** For RATE_LIMITED (or an HTTP `Retry-After`): how long to wait, in milliseconds. */
  readonly retryAfterMs?: number;
  /** For DPOP_NONCE_REQUIRED: the nonce the next proof must carry (RFC 9449 §8). */
  readonly dpopNonce?: string;
}

/**
 * A refused or failed Gatehouse call, whichever transport carried it: an RPC (gRPC or
 * Connect), a sidecar HTTP answer or a local check of the SDK. `reason` is the typed
 * `gatehouse.v1.Reason`; the message never carries a token, proof or key.
 */
export class GatehouseClientError extends Error {
  /** For INVALID_ARGUMENT: the field at fault; empty otherwise. */
  readonly field: string;
  readonly retryAfterMs: number | undefined;
  readonly dpopNonce: string | undefined;

  constructor(
    message: string,
    /** gRPC / Connect status code (0 when the failure was not an RPC's). */
    readonly code: number,
    /** The typed reason from the ErrorDetail; REASON_UNSPECIFIED when the server sent none. */
    readonly reason: Reason,
    hints: GatehouseErrorHints | string = {},
  ) {
    super(message);
    this.name = "GatehouseClientError";
    const {
      field = "",
      retryAfterMs,
      dpopNonce,
    } = typeof hints === "string" ? { field: hints } : hints;
    this.field = field;
    this.retryAfterMs = retryAfterMs;
    this.dpopNonce = dpopNonce;
  }

  /** The reason's enum name without its prefix, e.g. `TOKEN_EXPIRED`. */
  get reasonName(): string {
    return Reason[this.reason] ?? String(this.reason);
  }
}

/** Decodes `grpc-status-details-bin` from a grpc-js error. */
export function fromGrpcError(error: ServiceError): GatehouseClientError {
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  const detail = raw instanceof Buffer ? detailFromStatus(raw) : undefined;
  return fromDetail(error.details, error.code, detail);
}

/** A ConnectError as a GatehouseClientError; anything else unchanged. */
export function fromConnectError(error: unknown): GatehouseClientError | unknown {
  if (!(error instanceof ConnectError)) return error;
  const [detail] = error.findDetails(ErrorDetailSchema);
  return fromDetail(error.rawMessage, error.code, detail);
}

function fromDetail(
  message: string,
  code: number,
  detail: ErrorDetail | undefined,
): GatehouseClientError {
  return new GatehouseClientError(message, code, detail?.reason ?? Reason.UNSPECIFIED, {
    field: detail?.field ?? "",
    ...(detail?.retryAfterMs ? { retryAfterMs: detail.retryAfterMs } : {}),
    ...(detail?.dpopNonce ? { dpopNonce: detail.dpopNonce } : {}),
  });
}

/** The ErrorDetail packed in a serialized `google.rpc.Status`, if any. */
export function detailFromStatus(raw: Buffer): ErrorDetail | undefined {
  try {
    const status = fromBinary(StatusSchema, raw);
    const packed = status.details.find((any) => anyIs(any, ErrorDetailSchema));
    return packed ? anyUnpack(packed, ErrorDetailSchema) : undefined;
  } catch {
    return undefined;
  }
}
