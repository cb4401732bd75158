import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { StoreUnavailableError } from "../store/faults.js";
import { catalogEntry } from "./catalog.js";

export interface GatehouseErrorOptions {
  /** For INVALID_ARGUMENT: the dotted proto path of the field at fault. */
  readonly field?: string;
  /** Overrides the catalog's public message; must never contain a secret value. */
  readonly description?: string;
  /** For RATE_LIMITED. */
  readonly retryAfterMs?: number;
  /** For DPOP_NONCE_REQUIRED: the nonce the next proof must carry (RFC 9449 §8). */
  readonly dpopNonce?: string;
  /** Server-side only: the underlying fault, logged, never sent to the client. */
  readonly cause?: unknown;
}

/**
 * The one error type services throw. Transports map it through the catalog; its
 * `message` is public by construction (catalog text plus the field name).
 */
export class GatehouseError extends Error {
  readonly reason: Reason;
  readonly field: string;
  readonly description: string;
  readonly retryAfterMs: number;
  readonly dpopNonce: string;

  constructor(reason: Reason, options: GatehouseErrorOptions = {}) {
    const description = options.description ?? catalogEntry(reason).message;
    const field = options.field ?? "";
    super(field ? `${description}: ${field}` : description, { cause: options.cause });
    this.name = "GatehouseError";
    this.reason = reason;
    this.field = field;
    this.description = description;
    this.retryAfterMs = options.retryAfterMs ?? 0;
    this.dpopNonce = options.dpopNonce ?? "";
  }
}

export function invalidArgument(field: string, description: string): GatehouseError {
  return new GatehouseError(Reason.INVALID_ARGUMENT, { field, description });
}

/**
 * Turns anything thrown into a GatehouseError. A store that cannot be reached is
 * UNAVAILABLE (fail closed, retryable: src/store/faults.ts); other unknown faults become
 * INTERNAL. Both keep the generic catalog message: their text may hold values that must
 * not reach a client.
 */
export function toGatehouseError(error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  if (error instanceof StoreUnavailableError) {
    return new GatehouseError(Reason.UNAVAILABLE, { cause: error });
  }
  return new GatehouseError(Reason.INTERNAL, { cause: error });
}
