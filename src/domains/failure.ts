import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../errors/index.js";

/**
 * The one error a refused proof raises. `description` is public: it says what failed (the
 * lookup, the status, the size), never what was fetched.
 */
export function verificationFailed(description: string): GatehouseError {
  return new GatehouseError(Reason.DOMAIN_VERIFICATION_FAILED, { description });
}
