import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { constantTimeEqual } from "../../../crypto/constant-time.js";
import { GatehouseError } from "../../../errors/index.js";
import type { SubmitContext } from "./types.js";

/** The submission must come from the client certificate the challenge was issued to. */
export function identityStep({ record, call }: SubmitContext): void {
  if (!constantTimeEqual(record.caller, call.caller.fingerprint)) {
    throw new GatehouseError(Reason.CHALLENGE_IDENTITY_MISMATCH);
  }
}
