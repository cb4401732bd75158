import { describe, expect, it } from "vitest";
import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import { deadlineStep } from "../../../../../src/services/gate/submit-steps/deadline.js";
import { identityStep } from "../../../../../src/services/gate/submit-steps/identity.js";
import { refused, thrownOutcome } from "../../../outcome.js";
import { call, gateHarness, NOW_MS, submission } from "../fixture.js";

describe("identity step: the certificate the challenge was issued to", () => {
  it.each([
    ["the same certificate", call(), "allowed"],
    [
      "another certificate",
      call("cd".repeat(32)),
      refused(Reason.CHALLENGE_IDENTITY_MISMATCH, "challenge was issued to another caller"),
    ],
    [
      "no certificate",
      call(""),
      refused(Reason.CHALLENGE_IDENTITY_MISMATCH, "challenge was issued to another caller"),
    ],
  ])("%s", async (_case, caller, expected) => {
    const h = await gateHarness();
    expect(
      await thrownOutcome(() => identityStep(submission(h, {}, {}, { call: caller }))),
    ).toEqual(expected);
  });
});

describe("deadline step: this server's clock, no skew", () => {
  it.each([
    ["before the deadline", NOW_MS - 1, "allowed"],
    ["at the deadline", NOW_MS, "allowed"],
    ["one millisecond late", NOW_MS + 1, refused(Reason.CHALLENGE_EXPIRED, "challenge expired")],
  ])("%s", async (_case, now, expected) => {
    const h = await gateHarness();
    const context = submission(h, {}, { expiresAt: NOW_MS }, { now });
    expect(await thrownOutcome(() => deadlineStep(context))).toEqual(expected);
  });
});
