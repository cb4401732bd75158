import { describe, expect, it } from "vitest";
import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import { autonomyAttestation, generateAgentKey } from "../../../../../src/client/agent-keys.js";
import { autonomyStep } from "../../../../../src/services/gate/submit-steps/autonomy.js";
import type { AutonomyRecord } from "../../../../../src/store/ports.js";
import { refused, thrownOutcome } from "../../../outcome.js";
import { policy } from "../../../verify/steps/fixture.js";
import { CHALLENGE_ID, gateHarness, NOW_MS, submission } from "../fixture.js";

const THRESHOLDS: AutonomyRecord = {
  requireAttestation: true,
  minOperationSeconds: 60,
  minAutonomousActions: 5,
  requirePlatformAttestation: false,
};
const invalid = refused(Reason.ATTESTATION_INVALID, "autonomy attestation invalid");

describe("autonomy step: the agent's attestation, by its registered key, for this challenge", () => {
  it.each<
    [
      string,
      AutonomyRecord | undefined,
      "none" | "good" | "weak" | "stranger" | "other-challenge",
      unknown,
    ]
  >([
    ["none, and none required", undefined, "none", "allowed"],
    [
      "none, but required",
      THRESHOLDS,
      "none",
      refused(Reason.ATTESTATION_REQUIRED, "autonomy attestation required by policy"),
    ],
    ["one meeting the thresholds", THRESHOLDS, "good", "allowed"],
    [
      "one below the thresholds",
      THRESHOLDS,
      "weak",
      refused(Reason.ATTESTATION_BELOW_POLICY, "autonomy attestation below policy thresholds"),
    ],
    ["one signed by another key", THRESHOLDS, "stranger", invalid],
    ["one for another challenge", THRESHOLDS, "other-challenge", invalid],
    ["a bad one, though none is required", undefined, "stranger", invalid],
  ])("%s", async (_case, autonomy, attestation, expected) => {
    const h = await gateHarness({}, { policy: policy(autonomy ? { autonomy } : {}) });
    const sign = (key = h.key, challengeId = CHALLENGE_ID, actions = 9) =>
      autonomyAttestation(key, {
        did: h.agent.did,
        challengeId,
        operationSeconds: 120,
        autonomousActions: actions,
        decisionChain: Buffer.alloc(32, 1).toString("base64url"),
        iat: Math.floor(NOW_MS / 1000) - 1,
      });
    const token = {
      none: "",
      good: await sign(),
      weak: await sign(h.key, CHALLENGE_ID, 1),
      stranger: await sign(generateAgentKey()),
      "other-challenge": await sign(h.key, "D".repeat(43)),
    }[attestation];
    const context = submission(h, { autonomyAttestation: token });
    expect(await thrownOutcome(() => autonomyStep(context))).toEqual(expected);
  });
});
