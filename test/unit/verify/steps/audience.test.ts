import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { audienceStep } from "../../../../src/verify/steps/audience.js";
import { refused, stepOutcome } from "../../outcome.js";
import { AUDIENCE, claims, input, state } from "./fixture.js";

const mismatch = refused(Reason.TOKEN_AUDIENCE_MISMATCH, "token audience mismatch");

describe("audience step (RFC 9068 §4 step 4)", () => {
  it.each([
    ["another audience", ["https://other.example"], AUDIENCE, mismatch],
    ["a prefix of the audience", [AUDIENCE], `${AUDIENCE}/orders`, mismatch],
    ["the audience among others", ["https://other.example", AUDIENCE], AUDIENCE, "allowed"],
    ["the audience", [AUDIENCE], AUDIENCE, "allowed"],
  ])("%s", async (_case, aud, audience, expected) => {
    const s = state({ claims: claims({ aud }), input: input({ audience }) });
    expect(await stepOutcome(audienceStep(s))).toEqual(expected);
  });

  it("refuses without claims (fails closed)", async () => {
    expect(await stepOutcome(audienceStep(state()))).toEqual(mismatch);
  });
});
