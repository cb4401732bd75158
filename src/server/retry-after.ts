import type { GatehouseError } from "../errors/index.js";

/**
 * The standard `retry-after` value for a refusal that says when to retry (RFC 9110: whole
 * seconds), rounded up so a client honouring it is never early; undefined otherwise.
 * ErrorDetail.retry_after_ms carries the exact wait.
 */
export function retryAfterSeconds(error: GatehouseError): string | undefined {
  return error.retryAfterMs > 0 ? String(Math.ceil(error.retryAfterMs / 1000)) : undefined;
}
