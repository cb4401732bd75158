import { describe, expect, it } from "vitest";
import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../../../../gen/gatehouse/v1/gate_pb.js";
import type { PlatformAttestationVerifier } from "../../../../../src/attestation/platform/index.js";
import { platformStep } from "../../../../../src/services/gate/submit-steps/platform.js";
import { runtimeStep } from "../../../../../src/services/gate/submit-steps/runtime.js";
import { refused, thrownOutcome } from "../../../outcome.js";
import { policy } from "../../../verify/steps/fixture.js";
import { gateHarness, NOW_MS, submission } from "../fixture.js";

const platformInvalid = refused(
  Reason.PLATFORM_ATTESTATION_INVALID,
  "platform attestation missing or invalid",
);
/** Accepts exactly the token "genuine" (the real verifier has its own tests). */
const verifier = {
  verify: async (token: string) => (token === "genuine" ? {} : false),
} as unknown as PlatformAttestationVerifier;
const REQUIRED = {
  requireAttestation: false,
  minOperationSeconds: 0,
  minAutonomousActions: 0,
  requirePlatformAttestation: true,
};

describe("platform step: verified when present, required when the policy says so", () => {
  it.each([
    ["none, none required", false, "", true, "allowed"],
    ["none, but required", true, "", true, platformInvalid],
    ["a genuine one", true, "genuine", true, "allowed"],
    ["a forged one, though none is required", false, "forged", true, platformInvalid],
    [
      "one, but no attestation issuer configured (fail closed)",
      false,
      "genuine",
      false,
      platformInvalid,
    ],
  ])("%s", async (_case, required, token, configured, expected) => {
    const h = await gateHarness(configured ? { platformAttestation: verifier } : {}, {
      policy: policy(required ? { autonomy: REQUIRED } : {}),
    });
    const context = submission(h, { platformAttestation: token });
    expect(await thrownOutcome(() => platformStep(context))).toEqual(expected);
  });
});

describe("runtime step: plausible for the kind, and no longer than the server measured", () => {
  const implausible = refused(Reason.RUNTIME_IMPLAUSIBLE, "reported runtime implausible");
  it.each([
    ["within the bounds and the elapsed time", 1_500, ChallengeKind.SIGNATURE, "allowed"],
    ["more than elapsed plus the tolerance", 3_001, ChallengeKind.SIGNATURE, implausible],
    ["exactly elapsed plus the tolerance", 3_000, ChallengeKind.SIGNATURE, "allowed"],
    ["a kind without bounds", 1_000, ChallengeKind.HASHCASH, implausible],
  ])("%s", async (_case, runtimeMs, kind, expected) => {
    const h = await gateHarness();
    // Issued 2 s before now; tolerance 1 s; signature bounds 0–10 s.
    const context = submission(h, { runtimeMs }, { kind, issuedAt: NOW_MS - 2_000 });
    expect(await thrownOutcome(() => runtimeStep(context))).toEqual(expected);
  });
});
