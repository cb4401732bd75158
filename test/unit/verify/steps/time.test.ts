import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { timeStep } from "../../../../src/verify/steps/time.js";
import { refused, stepOutcome } from "../../outcome.js";
import { claims, harness, MAX_TTL, NOW, SKEW, state } from "./fixture.js";

const expired = refused(Reason.TOKEN_EXPIRED, "token expired");
const early = refused(Reason.TOKEN_NOT_YET_VALID, "token not yet valid");
const tooLong = refused(Reason.TOKEN_LIFETIME_EXCEEDED, "token lifetime exceeds maximum");

describe("time step (RFC 7519 §4.1.4–4.1.6, bounded skew and lifetime)", () => {
  it.each([
    ["exp just past the skew", { iat: NOW - 600, nbf: NOW - 600, exp: NOW - SKEW }, expired],
    ["exp within the skew", { iat: NOW - 600, nbf: NOW - 600, exp: NOW - SKEW + 1 }, "allowed"],
    ["nbf beyond the skew", { iat: NOW, nbf: NOW + SKEW + 1, exp: NOW + 600 }, early],
    ["iat beyond the skew", { iat: NOW + SKEW + 1, nbf: NOW, exp: NOW + 600 }, early],
    [
      "nbf and iat within the skew",
      { iat: NOW + SKEW, nbf: NOW + SKEW, exp: NOW + 600 },
      "allowed",
    ],
    ["a lifetime over the maximum", { iat: NOW, nbf: NOW, exp: NOW + MAX_TTL + 1 }, tooLong],
    ["exactly the maximum lifetime", { iat: NOW, nbf: NOW, exp: NOW + MAX_TTL }, "allowed"],
    ["nbf before iat beyond the skew", { iat: NOW, nbf: NOW - SKEW - 1, exp: NOW + 60 }, tooLong],
  ])("%s", async (_case, times, expected) => {
    const { deps } = await harness();
    expect(await stepOutcome(timeStep(state({ claims: claims(times) }), deps))).toEqual(expected);
  });

  it("refuses without claims (fails closed)", async () => {
    const { deps } = await harness();
    expect(await stepOutcome(timeStep(state(), deps))).toEqual(
      refused(Reason.TOKEN_CLAIMS_INVALID, "token claims invalid"),
    );
  });
});
