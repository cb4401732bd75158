import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../../errors/index.js";
import { submittingAgent } from "./agent.js";
import type { SubmitContext } from "./types.js";

/**
 * The platform attestation: required when the agent's policy says so; when present it is
 * verified either way. Without a configured attestation issuer nothing can be verified, so
 * a required or presented attestation is refused (fail closed).
 */
export async function platformStep(context: SubmitContext): Promise<void> {
  const { deps, request, record } = context;
  const token = request.platformAttestation;
  const agent = await submittingAgent(context);
  if (token === "" && !agent.policy.autonomy?.requirePlatformAttestation) return;
  const verifier = deps.platformAttestation;
  const verdict =
    token !== "" && verifier
      ? await verifier.verify(token, { nonce: request.challengeId, did: record.did })
      : false;
  if (verdict === false) throw new GatehouseError(Reason.PLATFORM_ATTESTATION_INVALID);
}
