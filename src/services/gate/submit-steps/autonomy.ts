import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { verifyAutonomyAttestation } from "../../../attestation/autonomy/verify.js";
import { ed25519PublicKey } from "../../../crypto/ed25519.js";
import { GatehouseError } from "../../../errors/index.js";
import { submittingAgent } from "./agent.js";
import type { SubmitContext } from "./types.js";

/**
 * The autonomy attestation: required when the agent's policy says so; when present it is
 * verified either way (a bad one is refused, never ignored), with the agent's registered key
 * only, bound to this challenge, then held to the policy's thresholds.
 */
export async function autonomyStep(context: SubmitContext): Promise<void> {
  const { deps, request, record, now } = context;
  const agent = await submittingAgent(context);
  const policy = agent.policy.autonomy;
  if (request.autonomyAttestation === "") {
    if (policy?.requireAttestation) throw new GatehouseError(Reason.ATTESTATION_REQUIRED);
    return;
  }
  // The registered key through the one key parser: a weak stored key verifies nothing.
  const publicKey = ed25519PublicKey(Buffer.from(agent.publicKeyHex, "hex"));
  if (!publicKey) throw new GatehouseError(Reason.ATTESTATION_INVALID);
  const claims = verifyAutonomyAttestation(request.autonomyAttestation, {
    did: record.did,
    publicKey,
    challengeId: request.challengeId,
    issuedAt: record.issuedAt,
    now,
    clockSkewSeconds: deps.settings.clockSkewSeconds,
  });
  if (!claims) throw new GatehouseError(Reason.ATTESTATION_INVALID);
  if (
    claims.operationSeconds < (policy?.minOperationSeconds ?? 0) ||
    claims.autonomousActions < (policy?.minAutonomousActions ?? 0)
  ) {
    throw new GatehouseError(Reason.ATTESTATION_BELOW_POLICY);
  }
}
