import { Reason, ReasonSchema } from "../../../gen/gatehouse/v1/errors_pb.js";
import { catalogEntry, GatehouseError } from "../../errors/index.js";

/**
 * A refusal whose HTTP status the protocol decides (404, 405, 413, 415) rather than the error
 * catalog. Its reason is INVALID_ARGUMENT: the request itself is wrong, not a credential.
 */
export class HttpError extends GatehouseError {
  readonly status: number;
  /** Headers the status calls for (`allow` with 405). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, description: string, headers: Record<string, string> = {}) {
    super(Reason.INVALID_ARGUMENT, { description });
    this.status = status;
    this.headers = headers;
  }
}

/** The HTTP status of a refusal: the protocol's, else the catalog's for its reason. */
export function statusOf(error: GatehouseError): number {
  return error instanceof HttpError ? error.status : catalogEntry(error.reason).http;
}

/** The extra headers of a refusal. */
export function headersOf(error: GatehouseError): Readonly<Record<string, string>> {
  return error instanceof HttpError ? error.headers : {};
}

/** The JSON body of a refusal: the reason's proto name and the public message. */
export function errorBody(error: GatehouseError): { reason: string; message: string } {
  const name = ReasonSchema.value[error.reason]?.name ?? "REASON_UNSPECIFIED";
  return { reason: name, message: error.message };
}
