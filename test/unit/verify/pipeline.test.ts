import { describe, expect, it } from "vitest";
import { VERIFY_STEPS } from "../../../src/verify/pipeline.js";

describe("the verification order (a security property: change it only on purpose)", () => {
  it("runs the steps in this order", () => {
    expect(VERIFY_STEPS.map((step) => step.name)).toEqual([
      // Nothing from the payload is trusted before the signature step.
      "parseStep",
      "headerStep",
      "signatureStep",
      // No store look-up for a token whose issuer, audience or lifetime is wrong.
      "claimsStep",
      "issuerStep",
      "audienceStep",
      "timeStep",
      "revocationStep",
      "agentStatusStep",
      "grantsStep",
      // Before scopes: a stolen bound token's scopes are not probed without the key.
      "dpopStep",
      "scopesStep",
      // Last: it writes (request rate, budget).
      "envelopeStep",
    ]);
  });
});
