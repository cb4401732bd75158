import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";

/**
 * The one gate for Ed25519 public keys and signatures from outside (agent keys, did:key DIDs,
 * DPoP `jwk`s, operator keys, audit and attestation keys). RFC 8032 §5.1.7 verification, plus
 * the checks libsodium applies (crypto_sign_verify_detached) that node:crypto (OpenSSL) lacks:
 *
 * - A (the key) and R (the signature's point) must be canonical encodings (RFC 8032 §5.1.3:
 *   y < p, and not x = 0 with the sign bit set), and neither may be of small order: under a
 *   small-order key, R = identity and S = 0 verify for every message (a forgery without any
 *   private key).
 * - S must be canonical, S < L (RFC 8032 §5.1.7, §8.4: otherwise S + L is a second signature).
 *
 * Only byte comparisons are added per signature; the verification itself stays node:crypto's
 * (much faster than a JavaScript implementation). A key's screening, including the one
 * decompression that proves it is a curve point, is cached per key.
 */

/** Why a 32-byte string is not an acceptable Ed25519 public key. */
export type Ed25519KeyProblem = "length" | "non_canonical" | "small_order" | "not_a_point";

/** A public key that passed parseEd25519PublicKey: the only kind verification accepts. */
export interface Ed25519PublicKey {
  readonly raw: Uint8Array;
  readonly keyObject: KeyObject;
}

export type Ed25519KeyParse =
  | { readonly ok: true; readonly key: Ed25519PublicKey }
  | { readonly ok: false; readonly problem: Ed25519KeyProblem };

/** RFC 8410 §4: SubjectPublicKeyInfo for Ed25519 is this fixed prefix + the 32-byte key. */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * The y-coordinates (little-endian, sign bit clear) of the 8 points of small order (RFC 7748
 * §4.1 cofactor 8): 0 and 1 (orders 4 and 1), p − 1 (order 2), and the two y of the order-8
 * points; each y here stands for both signs of x. Encodings with y ≥ p are refused before.
 */
const SMALL_ORDER_Y = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
].map((hex) => Buffer.from(hex, "hex"));

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex");

/**
 * Whether the 32-byte little-endian number at `a[offset]`, its top byte masked by `topMask`
 * (0x7f: the y of a point encoding, without the sign bit of x), is < `b`. Reads in place.
 */
function lessThan(a: Uint8Array, b: Uint8Array, offset = 0, topMask = 0xff): boolean {
  const top = (a[offset + 31] as number) & topMask;
  if (top !== b[31]) return top < (b[31] as number);
  for (let i = 30; i >= 0; i--) {
    const x = a[offset + i] as number;
    const y = b[i] as number;
    if (x !== y) return x < y;
  }
  return false;
}

/** P = 2^255 − 19, little-endian: y must be below it. */
const P = Buffer.from("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "hex");

/** Whether the y of `encoding` (its 32 bytes with the sign bit of x cleared) equals `y`. */
function yEquals(encoding: Uint8Array, y: Uint8Array): boolean {
  if (((encoding[31] as number) & 0x7f) !== y[31]) return false;
  for (let i = 30; i >= 0; i--) if (encoding[i] !== y[i]) return false;
  return true;
}

/**
 * RFC 8032 §5.1.3 decoding rules that need no field arithmetic: y < p, and x = 0 (y = ±1)
 * never with the sign bit set. Then whether the point is of small order (y in the list).
 * Reads bytes 0–31 of `encoding` in place, without a copy: it runs for every signature's R.
 */
export function pointEncodingProblem(
  encoding: Uint8Array,
): "non_canonical" | "small_order" | undefined {
  if (!lessThan(encoding, P, 0, 0x7f)) return "non_canonical";
  const signed = ((encoding[31] as number) & 0x80) !== 0;
  const xIsZero =
    yEquals(encoding, SMALL_ORDER_Y[1] as Buffer) || yEquals(encoding, SMALL_ORDER_Y[2] as Buffer);
  if (signed && xIsZero) return "non_canonical";
  return SMALL_ORDER_Y.some((small) => yEquals(encoding, small)) ? "small_order" : undefined;
}

/**
 * Whether a 64-byte signature R ‖ S is acceptable before any curve arithmetic: R canonical
 * and not of small order, S < L (RFC 8032 §5.1.7; libsodium's checks on R and S).
 */
export function signatureEncodingAcceptable(signature: Uint8Array): boolean {
  return (
    signature.length === 64 &&
    lessThan(signature, L, 32) &&
    // R is the first 32 bytes, read in place (pointEncodingProblem reads bytes 0–31 only).
    pointEncodingProblem(signature) === undefined
  );
}

const MAX_CACHED_KEYS = 10_000;
/** Screening outcomes by the key's hex: a pure function of the 32 bytes. */
const parsed = new Map<string, Ed25519KeyParse>();

/**
 * Parses a raw 32-byte Ed25519 public key from outside: canonical, not of small order, and a
 * point on the curve (RFC 8032 §5.1.3 decoding, by @noble/curves, once per key). Cached.
 */
export function parseEd25519PublicKey(raw: Uint8Array): Ed25519KeyParse {
  if (raw.length !== 32) return { ok: false, problem: "length" };
  const id = Buffer.from(raw).toString("hex");
  let result = parsed.get(id);
  if (result === undefined) {
    result = screen(Uint8Array.from(raw));
    if (parsed.size >= MAX_CACHED_KEYS) parsed.clear();
    parsed.set(id, result);
  }
  return result;
}

function screen(raw: Uint8Array): Ed25519KeyParse {
  const problem = pointEncodingProblem(raw);
  if (problem !== undefined) return { ok: false, problem };
  try {
    ed25519.Point.fromBytes(raw);
  } catch {
    return { ok: false, problem: "not_a_point" };
  }
  const keyObject = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, raw]),
    format: "der",
    type: "spki",
  });
  return { ok: true, key: { raw, keyObject } };
}

/** The parsed key, or undefined for any key parseEd25519PublicKey refuses. */
export function ed25519PublicKey(raw: Uint8Array): Ed25519PublicKey | undefined {
  const result = parseEd25519PublicKey(raw);
  return result.ok ? result.key : undefined;
}

/**
 * Verifies a pure Ed25519 signature (RFC 8032 §5.1.7) with the checks above: the key is
 * parsed (cached) unless it already was. Never throws: anything unacceptable is false.
 */
export function verifyEd25519(
  publicKey: Uint8Array | Ed25519PublicKey,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = publicKey instanceof Uint8Array ? ed25519PublicKey(publicKey) : publicKey;
  if (!key || !signatureEncodingAcceptable(signature)) return false;
  try {
    return verify(null, message, key.keyObject, signature);
  } catch {
    return false;
  }
}

/** Screening outcomes of KeyObjects (signing, audit, JWKS keys): one export per object. */
const screenedObjects = new WeakMap<KeyObject, boolean>();

/**
 * Whether an Ed25519 KeyObject's public key passes parseEd25519PublicKey (for keys that
 * arrive as KeyObjects: a JWKS, the key ring, the audit log's key).
 */
export function ed25519KeyObjectAcceptable(key: KeyObject): boolean {
  let ok = screenedObjects.get(key);
  if (ok === undefined) {
    ok = false;
    if (key.asymmetricKeyType === "ed25519") {
      const x = key.export({ format: "jwk" }).x;
      ok = x !== undefined && parseEd25519PublicKey(Buffer.from(x, "base64url")).ok;
    }
    screenedObjects.set(key, ok);
  }
  return ok;
}

/** Verifies with an Ed25519 KeyObject under the same rules as verifyEd25519. Never throws. */
export function verifyEd25519KeyObject(
  key: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!ed25519KeyObjectAcceptable(key) || !signatureEncodingAcceptable(signature)) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
