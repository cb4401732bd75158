import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { issuerStep } from "../../../../src/verify/steps/issuer.js";
import { refused, stepOutcome } from "../../outcome.js";
import { claims, harness, ISSUER, state } from "./fixture.js";

describe("issuer step (RFC 9068 §4 step 3)", () => {
  it.each([
    [
      "another issuer",
      `${ISSUER}.evil`,
      refused(Reason.TOKEN_ISSUER_MISMATCH, "token issuer mismatch"),
    ],
    [
      "a trailing slash",
      `${ISSUER}/`,
      refused(Reason.TOKEN_ISSUER_MISMATCH, "token issuer mismatch"),
    ],
    [
      "another case",
      ISSUER.toUpperCase(),
      refused(Reason.TOKEN_ISSUER_MISMATCH, "token issuer mismatch"),
    ],
    ["this issuer, exactly", ISSUER, "allowed"],
  ])("%s", async (_case, iss, expected) => {
    const { deps } = await harness();
    expect(await stepOutcome(issuerStep(state({ claims: claims({ iss }) }), deps))).toEqual(
      expected,
    );
  });

  it("refuses without claims (fails closed)", async () => {
    const { deps } = await harness();
    expect(await stepOutcome(issuerStep(state(), deps))).toEqual(
      refused(Reason.TOKEN_ISSUER_MISMATCH, "token issuer mismatch"),
    );
  });
});
