import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { MAX_TOKEN_LENGTH, parseStep } from "../../../../src/verify/steps/parse.js";
import { refused, stepOutcome } from "../../outcome.js";
import { input, state } from "./fixture.js";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const HEADER = b64({ alg: "EdDSA", typ: "at+jwt", kid: "k1" });
const PAYLOAD = b64({ sub: "x" });
const SIGNATURE = Buffer.alloc(64, 7).toString("base64url");
const malformed = refused(Reason.TOKEN_MALFORMED, "token malformed");

describe("parse step (RFC 7515 §7.1, RFC 7519 §7.2)", () => {
  it.each([
    ["two segments", `${HEADER}.${PAYLOAD}`],
    ["four segments", `${HEADER}.${PAYLOAD}.${SIGNATURE}.x`],
    ["padding in a segment", `${HEADER}=.${PAYLOAD}.${SIGNATURE}`],
    ["standard base64 characters", `${HEADER}.${PAYLOAD}.${SIGNATURE.slice(0, -1)}+`],
    ["a header that is not JSON", `${b64("x").slice(0, 2)}.${PAYLOAD}.${SIGNATURE}`],
    ["a payload that is a JSON array", `${HEADER}.${b64([1])}.${SIGNATURE}`],
    ["an empty token", ""],
    ["a token over the size limit", `${HEADER}.${"A".repeat(MAX_TOKEN_LENGTH)}.${SIGNATURE}`],
  ])("refuses %s", async (_case, token) => {
    const s = state({ input: input({ token }) });
    expect(await stepOutcome(parseStep(s))).toEqual(malformed);
    expect(s.header).toEqual({});
  });

  it("keeps the header, payload, signing input and signature of a compact JWS", async () => {
    const s = state({ input: input({ token: `${HEADER}.${PAYLOAD}.${SIGNATURE}` }) });
    expect(await stepOutcome(parseStep(s))).toBe("allowed");
    expect(s.header).toEqual({ alg: "EdDSA", typ: "at+jwt", kid: "k1" });
    expect(s.payload).toEqual({ sub: "x" });
    expect(Buffer.from(s.signingInput).toString()).toBe(`${HEADER}.${PAYLOAD}`);
    expect(s.signature).toHaveLength(64);
  });
});
