import { describe, expect, it } from "vitest";
import {
  base58btcDecode,
  base58btcEncode,
  decodeDidKey,
  ed25519FromMultibase,
  ed25519PublicKeyMultibase,
  encodeDidKey,
} from "../../../src/crypto/did-key.js";
import { loadDidKeyVectors, vectorKey } from "../../support/did-key-vectors.js";

describe("base58btc", () => {
  // Bitcoin's base58 test cases (base58_encode_decode.json in bitcoin/bitcoin).
  const cases: [hex: string, text: string][] = [
    ["", ""],
    ["61", "2g"],
    ["626262", "a3gV"],
    ["636363", "aPEr"],
    ["73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"],
    ["00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"],
    ["516b6fcd0f", "ABnLTmg"],
    ["bf4f89001e670274dd", "3SEo3LWLoPntC"],
    ["572e4794", "3EFU7m"],
    ["ecac89cad93923c02321", "EJDM8drfXA6uyA"],
    ["10c8511e", "Rt5zm"],
    ["00000000000000000000", "1111111111"],
  ];
  it.each(cases)("encodes %s as %s and back", (hex, text) => {
    expect(base58btcEncode(Buffer.from(hex, "hex"))).toBe(text);
    expect(Buffer.from(base58btcDecode(text) ?? []).toString("hex")).toBe(hex);
  });

  it("round-trips random bytes, leading zeros included", () => {
    for (let n = 0; n < 200; n++) {
      const bytes = Buffer.alloc(n % 40);
      for (let i = 0; i < bytes.length; i++) bytes[i] = i < n % 3 ? 0 : (n * 31 + i * 7) & 0xff;
      expect(Buffer.from(base58btcDecode(base58btcEncode(bytes)) ?? [])).toEqual(bytes);
    }
  });

  it("refuses characters outside the alphabet (0, O, I, l)", () => {
    for (const text of ["0", "O", "I", "l", "abc+", "ab c"]) {
      expect(base58btcDecode(text), text).toBeUndefined();
    }
  });
});

describe("did:key (Ed25519), against the W3C CCG vectors", () => {
  const vectors = loadDidKeyVectors();
  it("has the published vectors", () => {
    expect(vectors.length).toBe(5);
  });

  it.each(vectors.map((v) => [v.did, v] as const))("%s", (did, vector) => {
    const { publicKey } = vectorKey(vector);
    expect(Buffer.from(publicKey)).toEqual(vector.publicKey);
    expect(encodeDidKey(publicKey)).toBe(did);
    expect(Buffer.from(decodeDidKey(did) ?? [])).toEqual(vector.publicKey);
    const multibase = did.slice("did:key:".length);
    expect(ed25519PublicKeyMultibase(publicKey)).toBe(multibase);
    expect(vector.verificationMethodId).toBe(`${did}#${multibase}`);
  });
});

describe("did:key decoding", () => {
  const key = Buffer.alloc(32, 7);
  const did = encodeDidKey(key);

  it("starts with z6Mk, as every Ed25519 did:key does", () => {
    expect(did.startsWith("did:key:z6Mk")).toBe(true);
  });

  it("refuses other methods, multibase prefixes, codecs and lengths", () => {
    const body = did.slice("did:key:".length);
    const x25519 = `z${base58btcEncode(Buffer.concat([Buffer.from([0xec, 0x01]), key]))}`;
    const short = `z${base58btcEncode(Buffer.concat([Buffer.from([0xed, 0x01]), key.subarray(1)]))}`;
    for (const bad of [
      `did:agent:${body}`,
      `did:key:${body.slice(1)}`,
      `did:key:m${body.slice(1)}`,
      `did:key:${x25519}`,
      `did:key:${short}`,
      `did:key:${body}0`,
      "did:key:",
    ]) {
      expect(decodeDidKey(bad), bad).toBeUndefined();
    }
    expect(ed25519FromMultibase(x25519)).toBeUndefined();
  });

  it("refuses a non-canonical encoding (an extra leading zero byte)", () => {
    const padded = `did:key:z1${did.slice("did:key:z".length)}`;
    expect(decodeDidKey(padded)).toBeUndefined();
  });

  it("refuses to encode a key that is not 32 bytes", () => {
    expect(() => encodeDidKey(new Uint8Array(31))).toThrow(RangeError);
  });
});
