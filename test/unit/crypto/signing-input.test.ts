import { describe, expect, it } from "vitest";
import { encodeSigningInput } from "../../../src/crypto/signing-input.js";

/** The layout documented on `gatehouse.v1.SignatureChallenge`, built the obvious way. */
function reference(purpose: string, fields: readonly (readonly [string, string])[]): Buffer {
  const parts = [Buffer.from(`GATEHOUSE-SIG\0v1\0${purpose}\0`)];
  for (const [name, value] of fields) {
    const bytes = Buffer.from(value, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(Buffer.from(`${name}\0`), length, bytes);
  }
  return Buffer.concat(parts);
}

describe("encodeSigningInput", () => {
  it("writes magic, version, purpose, then each field as name, NUL, u32be length, value", () => {
    const fields = [
      ["issuer", "https://gatehouse.test"],
      ["did", "did:agent:example.com:0000"],
      ["scopes", ""],
      ["note", "naïve ☃ 𝄞"], // multi-byte UTF-8: lengths are bytes, not characters
    ] as const;
    const encoded = encodeSigningInput("challenge", fields);
    expect(Buffer.from(encoded).equals(reference("challenge", fields))).toBe(true);
    expect(Buffer.from(encoded).subarray(0, 27).toString("latin1")).toBe(
      "GATEHOUSE-SIG\0v1\0challenge\0",
    );
  });

  it("encodes an empty field list as the header alone", () => {
    expect(Buffer.from(encodeSigningInput("grant-decision", [])).toString()).toBe(
      "GATEHOUSE-SIG\0v1\0grant-decision\0",
    );
  });
});
