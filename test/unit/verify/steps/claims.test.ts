import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { claimsStep } from "../../../../src/verify/steps/claims.js";
import { refused, stepOutcome } from "../../outcome.js";
import { AUDIENCE, DID, ISSUER, NOW, OPERATOR, state } from "./fixture.js";

const PAYLOAD = {
  iss: ISSUER,
  sub: DID,
  aud: AUDIENCE,
  scope: "orders:read orders:write",
  operator: OPERATOR,
  iat: NOW,
  nbf: NOW,
  exp: NOW + 300,
  jti: "t1",
};
const invalid = refused(Reason.TOKEN_CLAIMS_INVALID, "token claims invalid");
const without = (name: keyof typeof PAYLOAD) => {
  const { [name]: _, ...rest } = PAYLOAD;
  return rest;
};

describe("claims step (RFC 9068 §2.2: presence and types)", () => {
  it.each([
    ["no iss", without("iss")],
    ["no sub", without("sub")],
    ["no jti", without("jti")],
    ["no operator", without("operator")],
    ["no aud", without("aud")],
    ["no scope", without("scope")],
    ["no exp", without("exp")],
    ["an empty sub", { ...PAYLOAD, sub: "" }],
    ["an empty aud list", { ...PAYLOAD, aud: [] }],
    ["a non-string audience", { ...PAYLOAD, aud: [AUDIENCE, 7] }],
    ["a scope list instead of a string", { ...PAYLOAD, scope: ["orders:read"] }],
    ["a fractional exp", { ...PAYLOAD, exp: NOW + 0.5 }],
    ["a negative iat", { ...PAYLOAD, iat: -1 }],
    ["a string nbf", { ...PAYLOAD, nbf: String(NOW) }],
    ["an empty grants list", { ...PAYLOAD, grants: [] }],
    ["17 grants", { ...PAYLOAD, grants: Array.from({ length: 17 }, (_, i) => `g${i}`) }],
    ["a non-list derived_from", { ...PAYLOAD, derived_from: "t0" }],
    ["act without cnf", { ...PAYLOAD, act: { sub: DID.replace("0123", "9999") } }],
    ["an act that is not a chain", { ...PAYLOAD, act: "x", cnf: { jkt: "j" } }],
  ])("refuses %s", async (_case, payload) => {
    const s = state({ payload });
    expect(await stepOutcome(claimsStep(s))).toEqual(invalid);
    expect(s.claims).toBeUndefined();
  });

  it("reads the claims: one audience as a list, scopes split on spaces", async () => {
    const s = state({ payload: { ...PAYLOAD, grants: ["g1"], derived_from: ["t0"] } });
    expect(await stepOutcome(claimsStep(s))).toBe("allowed");
    expect(s.claims).toEqual({
      iss: ISSUER,
      sub: DID,
      aud: [AUDIENCE],
      scopes: ["orders:read", "orders:write"],
      operator: OPERATOR,
      iat: NOW,
      nbf: NOW,
      exp: NOW + 300,
      jti: "t1",
      grants: ["g1"],
      derivedFrom: ["t0"],
    });
  });
});
