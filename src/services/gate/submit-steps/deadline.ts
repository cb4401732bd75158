import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../../errors/index.js";
import type { SubmitContext } from "./types.js";

/**
 * The deadline was set by this server's clock and is checked by it; no skew is granted
 * (replicas share NTP-synchronised time, and the deadline already includes the TTL).
 */
export function deadlineStep({ record, now }: SubmitContext): void {
  if (now > record.expiresAt) throw new GatehouseError(Reason.CHALLENGE_EXPIRED);
}
