import { expect } from "vitest";
import { GatehouseClientError } from "../../clients/typescript/src/index.js";
import type { Reason } from "../../gen/gatehouse/v1/errors_pb.js";

/** Awaits a call that must fail, and returns its typed error. */
export async function rejectionOf(promise: Promise<unknown>): Promise<GatehouseClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatehouseClientError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

/** Asserts a call fails with the given reason (and status code, when given). */
export async function expectReason(
  promise: Promise<unknown>,
  reason: Reason,
  code?: number,
): Promise<GatehouseClientError> {
  const error = await rejectionOf(promise);
  expect(error.reason, error.message).toBe(reason);
  if (code !== undefined) expect(error.code).toBe(code);
  return error;
}
