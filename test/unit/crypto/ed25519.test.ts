import { generateKeyPairSync, sign } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import {
  parseEd25519PublicKey,
  pointEncodingProblem,
  signatureEncodingAcceptable,
  verifyEd25519,
} from "../../../src/crypto/ed25519.js";

const bytes = (hex: string) => Buffer.from(hex, "hex");
/** An order-8 point (its encoding opens the speccheck cases). */
const ORDER_8 = ed25519.Point.fromHex(
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
);
/** The 8 points of small order: the multiples of an order-8 point. */
const TORSION = Array.from({ length: 8 }, (_, k) => ORDER_8.multiply(BigInt(k + 1)).toBytes());

function freshKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x ?? "";
  return { privateKey, raw: Buffer.from(x, "base64url") };
}

describe("parseEd25519PublicKey", () => {
  it("accepts a generated key", () => {
    expect(parseEd25519PublicKey(freshKey().raw).ok).toBe(true);
  });

  it("refuses each of the 8 small-order points (RFC 7748 §4.1 cofactor 8)", () => {
    for (const point of TORSION) {
      expect(parseEd25519PublicKey(point)).toEqual({ ok: false, problem: "small_order" });
    }
  });

  it("refuses `01` followed by 31 zero bytes (the identity)", () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(parseEd25519PublicKey(identity)).toEqual({ ok: false, problem: "small_order" });
  });

  it("refuses non-canonical encodings: y ≥ p, and x = 0 with the sign bit set", () => {
    const p = bytes("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    const pPlusOne = bytes("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    const identitySigned = bytes(`01${"00".repeat(30)}80`);
    const minusOneSigned = bytes(
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    );
    for (const encoding of [p, pPlusOne, identitySigned, minusOneSigned]) {
      expect(parseEd25519PublicKey(encoding)).toEqual({ ok: false, problem: "non_canonical" });
    }
  });

  it("refuses a y with no point on the curve, and a wrong length", () => {
    // y = 2 has no x (2^2 − 1)/(d·2^2 + 1) is not a square mod p.
    expect(parseEd25519PublicKey(bytes(`02${"00".repeat(31)}`))).toEqual({
      ok: false,
      problem: "not_a_point",
    });
    expect(parseEd25519PublicKey(new Uint8Array(31))).toEqual({ ok: false, problem: "length" });
  });
});

describe("verifyEd25519", () => {
  it("refuses R = identity, S = 0 under a small-order key, for any message", () => {
    const forged = Buffer.concat([bytes(`01${"00".repeat(31)}`), Buffer.alloc(32)]);
    expect(verifyEd25519(TORSION[7] as Uint8Array, Buffer.from("any message"), forged)).toBe(false);
  });

  it("accepts an honest signature and refuses S + L (RFC 8032 §5.1.7)", () => {
    const { privateKey, raw } = freshKey();
    const message = Buffer.from("hello");
    const signature = sign(null, message, privateKey);
    expect(verifyEd25519(raw, message, signature)).toBe(true);
    const s = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString("hex")}`);
    const sPlusL = s + 2n ** 252n + 27742317777372353535851937790883648493n;
    const encoded = Buffer.from(sPlusL.toString(16).padStart(64, "0"), "hex").reverse();
    const malleated = Buffer.concat([signature.subarray(0, 32), encoded]);
    expect(signatureEncodingAcceptable(malleated)).toBe(false);
    expect(verifyEd25519(raw, message, malleated)).toBe(false);
  });

  it("screens R from the signature's first 32 bytes, its sign bit not part of y", () => {
    const below = (top: string) =>
      bytes(`ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff${top}`);
    // y = p − 2, either sign of x: canonical (y < p) and not of small order.
    expect(pointEncodingProblem(below("7f"))).toBeUndefined();
    expect(pointEncodingProblem(below("ff"))).toBeUndefined();
    // y = p with the sign bit set is still y ≥ p.
    const pSigned = bytes("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    expect(pointEncodingProblem(pSigned)).toBe("non_canonical");
    expect(signatureEncodingAcceptable(Buffer.concat([pSigned, Buffer.alloc(32)]))).toBe(false);
    // Only bytes 0–31 are R: an S that would be a small-order encoding changes nothing.
    const { privateKey } = freshKey();
    const signature = sign(null, Buffer.from("in place"), privateKey);
    expect(pointEncodingProblem(signature)).toBe(pointEncodingProblem(signature.subarray(0, 32)));
    expect(signatureEncodingAcceptable(signature)).toBe(true);
  });

  it("refuses a small-order R before any curve arithmetic", () => {
    for (const point of TORSION) {
      expect(pointEncodingProblem(point)).toBe("small_order");
      expect(signatureEncodingAcceptable(Buffer.concat([point, Buffer.alloc(32)]))).toBe(false);
    }
  });
});
