import { LegacyRefusal } from "../refusal.js";

/**
 * AOG's `autonomy_attestation`: an unsigned JSON object the agent fills in about itself
 * (`operation_time`, `autonomous_actions`, `decision_chain`). Nothing proves any of it, so it
 * is refused unless the deployment opted in (`sidecar.legacy_aog_unsigned_autonomy`); even
 * then it is only checked for shape and stands in for nothing Gatehouse requires: a policy
 * asking for an autonomy attestation needs the signed one (SubmitRequest.autonomy_attestation).
 */
export function checkUnsignedAutonomy(value: unknown, accepted: boolean): void {
  if (value === undefined || value === null) return;
  if (!accepted) {
    throw new LegacyRefusal(
      403,
      "unsigned autonomy_attestation not accepted: send a signed attestation through Gatehouse",
    );
  }
  if (!isPlausible(value)) throw new LegacyRefusal(403, "autonomy attestation validation failed");
}

function isPlausible(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const {
    operation_time: time,
    autonomous_actions: actions,
    decision_chain: chain,
  } = value as Record<string, unknown>;
  return (
    typeof time === "number" &&
    time >= 1 &&
    Array.isArray(actions) &&
    actions.length > 0 &&
    Array.isArray(chain) &&
    chain.length > 0
  );
}
