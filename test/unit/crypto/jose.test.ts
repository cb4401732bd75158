import { describe, expect, it } from "vitest";
import { decodeBase64url } from "../../../src/crypto/jose/base64url.js";
import { parseCompactJws, splitCompactJws } from "../../../src/crypto/jose/compact.js";

describe("decodeBase64url (RFC 7515 §2, RFC 4648 §3.5)", () => {
  it("decodes canonical unpadded base64url", () => {
    expect(decodeBase64url("")).toEqual(Buffer.alloc(0));
    expect(decodeBase64url("AQ")).toEqual(Buffer.from([1]));
    expect(decodeBase64url("AQI")).toEqual(Buffer.from([1, 2]));
    expect(decodeBase64url("_-8")).toEqual(Buffer.from([0xff, 0xef]));
  });

  it("refuses non-zero pad bits: a second spelling of the same bytes", () => {
    // "AQ" and "AR".."Af" share the first 6+2 bits; only "AQ" has zero pad bits.
    for (const text of ["AR", "AS", "Af", "AQJ", "AQK", "AQL"]) {
      expect(decodeBase64url(text), text).toBeUndefined();
    }
  });

  it("refuses padding, the standard alphabet, whitespace and a lone last character", () => {
    for (const text of ["AQ==", "+/8", "A Q", "AQ\n", "A", "AQIDB"]) {
      expect(decodeBase64url(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});

describe("parseCompactJws (RFC 7515 §7.1)", () => {
  const header = Buffer.from('{"alg":"EdDSA"}').toString("base64url");
  const payload = Buffer.from('{"sub":"a"}').toString("base64url");
  const signature = Buffer.alloc(64, 7).toString("base64url");

  it("splits three non-empty segments only", () => {
    expect(splitCompactJws("a.b.c")).toEqual(["a", "b", "c"]);
    for (const token of ["a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", ""]) {
      expect(splitCompactJws(token), token).toBeUndefined();
    }
  });

  it("parses a token and refuses it once its signature is re-spelled", () => {
    const parsed = parseCompactJws(`${header}.${payload}.${signature}`);
    expect(parsed?.header).toEqual({ alg: "EdDSA" });
    expect(parsed?.payload).toEqual({ sub: "a" });
    expect(parsed?.signature).toEqual(Buffer.alloc(64, 7));
    // 64 bytes leave one byte in the last quantum: its 2nd character has 4 pad bits; set one.
    const last = signature.at(-1) as string;
    const respelled = `${signature.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) + 1)}`;
    expect(Buffer.from(respelled, "base64url")).toEqual(Buffer.alloc(64, 7));
    expect(parseCompactJws(`${header}.${payload}.${respelled}`)).toBeUndefined();
  });

  it("refuses a header or payload that is not a JSON object", () => {
    const array = Buffer.from("[1]").toString("base64url");
    expect(parseCompactJws(`${array}.${payload}.${signature}`)).toBeUndefined();
    expect(parseCompactJws(`${header}.${array}.${signature}`)).toBeUndefined();
  });
});
