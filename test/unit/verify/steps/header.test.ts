import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { headerStep } from "../../../../src/verify/steps/header.js";
import { refused, stepOutcome } from "../../outcome.js";
import { ed25519Key, harness, keyRing, state } from "./fixture.js";

const algRefused = refused(Reason.TOKEN_ALG_NOT_ALLOWED, "token alg not allowed");
const headerInvalid = refused(Reason.TOKEN_HEADER_INVALID, "token header invalid");
const kidUnknown = refused(Reason.TOKEN_KID_UNKNOWN, "token kid unknown");
const GOOD = { alg: "EdDSA", typ: "at+jwt", kid: "k1" };

describe("header step (RFC 9068 §4, RFC 8725 §3.1, RFC 7515 §4.1)", () => {
  const { key } = ed25519Key("k1");

  it.each([
    ["alg none", { ...GOOD, alg: "none" }, algRefused],
    ["alg HS256", { ...GOOD, alg: "HS256" }, algRefused],
    ["no alg", { typ: "at+jwt", kid: "k1" }, algRefused],
    ["alg of another key type (ES256 for an Ed25519 key)", { ...GOOD, alg: "ES256" }, algRefused],
    ["jku", { ...GOOD, jku: "https://evil.example/jwks" }, headerInvalid],
    ["x5u", { ...GOOD, x5u: "https://evil.example/cert" }, headerInvalid],
    ["jwk", { ...GOOD, jwk: {} }, headerInvalid],
    ["x5c", { ...GOOD, x5c: [] }, headerInvalid],
    ["crit", { ...GOOD, crit: ["exp"] }, headerInvalid],
    ["typ JWT", { ...GOOD, typ: "JWT" }, headerInvalid],
    ["no typ", { alg: "EdDSA", kid: "k1" }, headerInvalid],
    ["no kid", { alg: "EdDSA", typ: "at+jwt" }, kidUnknown],
    ["an overlong kid", { ...GOOD, kid: "k".repeat(129) }, kidUnknown],
    ["an unknown kid", { ...GOOD, kid: "k9" }, kidUnknown],
  ])("refuses %s", async (_case, header, expected) => {
    const { deps } = await harness({ keys: keyRing([key]) });
    const s = state({ header });
    expect(await stepOutcome(headerStep(s, deps))).toEqual(expected);
    expect(s.key).toBeUndefined();
  });

  it.each([
    ["at+jwt", "at+jwt"],
    ["application/at+jwt", "application/at+jwt"],
  ])("accepts typ %s and resolves the key", async (_case, typ) => {
    const { deps } = await harness({ keys: keyRing([key]) });
    const s = state({ header: { ...GOOD, typ } });
    expect(await stepOutcome(headerStep(s, deps))).toBe("allowed");
    expect(s.key).toBe(key);
  });

  it("refreshes the key ring once for a kid it does not know yet", async () => {
    const fresh = ed25519Key("k2").key;
    const keys = keyRing([key], [fresh]);
    const { deps } = await harness({ keys });
    const s = state({ header: { ...GOOD, kid: "k2" } });
    expect(await stepOutcome(headerStep(s, deps))).toBe("allowed");
    expect(s.key).toBe(fresh);
    expect(keys.refreshes).toBe(1);
  });
});
