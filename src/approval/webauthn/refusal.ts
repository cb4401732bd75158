import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../errors/index.js";

/**
 * A failed passkey check. The message names the check, never a value: the library's own
 * messages quote challenges and origins, so they are neither logged nor returned.
 */
export function approvalInvalid(check: string): GatehouseError {
  return new GatehouseError(Reason.APPROVAL_INVALID, {
    description: `passkey verification failed: ${check}`,
  });
}
