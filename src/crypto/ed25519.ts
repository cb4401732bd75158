import { createPublicKey, type KeyObject, verify } from "node:crypto";

// RFC 8410 §4: SubjectPublicKeyInfo for Ed25519 is this fixed prefix + the 32-byte key.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const MAX_CACHED_KEYS = 10_000;
const keyCache = new Map<string, KeyObject>();

/** Imports a raw 32-byte Ed25519 public key (cached: parsing costs more than verifying). */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError("Ed25519 public key must be 32 bytes");
  const id = Buffer.from(raw).toString("hex");
  let key = keyCache.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

/** Verifies a pure Ed25519 signature (RFC 8032 §5.1.7). Never throws: bad input is false. */
export function verifyEd25519(
  publicKeyRaw: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKeyRaw.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, ed25519PublicKey(publicKeyRaw), signature);
  } catch {
    return false;
  }
}
