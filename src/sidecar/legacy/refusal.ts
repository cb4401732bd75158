import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { catalogEntry, type GatehouseError } from "../../errors/index.js";
import { retryAfterSeconds } from "../../server/retry-after.js";

/** A refusal in a legacy gate's own words: its status and message, sent in its own JSON shape. */
export class LegacyRefusal extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
}

/** 405 in a legacy gate's words, with `Allow` (RFC 9110 §15.5.6). */
export function methodNotAllowed(allowed: string): LegacyRefusal {
  return new LegacyRefusal(405, "method not allowed", { allow: allowed });
}

/** Gatehouse's refusal as a legacy status and message; the status stays the catalog's. */
export function refusalOf(
  error: GatehouseError,
  words: Partial<Record<Reason, readonly [number, string]>>,
): LegacyRefusal {
  const retryAfter = retryAfterSeconds(error);
  const headers = retryAfter === undefined ? {} : { "retry-after": retryAfter };
  const known = words[error.reason];
  if (known !== undefined) return new LegacyRefusal(known[0], known[1], headers);
  const status = catalogEntry(error.reason).http;
  // The catalog's public message; a field names what was wrong with the input.
  const field = error.field === "" ? "" : ` (${error.field})`;
  const detail =
    error.reason === Reason.INTERNAL ? "internal error" : `${error.description}${field}`;
  return new LegacyRefusal(status, detail, headers);
}
