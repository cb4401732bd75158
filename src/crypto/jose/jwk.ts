import { createPublicKey, type KeyObject } from "node:crypto";
import { ed25519PublicKey } from "../ed25519.js";
import { decodeBase64url } from "./base64url.js";
import { jwkThumbprint } from "./thumbprint.js";

/** A public JWK accepted from outside, with its RFC 7638 thumbprint. */
export interface ImportedJwk {
  readonly jkt: string;
  readonly publicKey: KeyObject;
}

/** Bytes of each coordinate (RFC 8037 §2: Ed25519 `x`; RFC 7518 §6.2.1.2: P-256 `x`, `y`). */
const COORDINATE_BYTES = 32;

/**
 * Imports a public OKP Ed25519 or EC P-256 JWK. Only the public members reach the key, each
 * canonical base64url of the right length (RFC 7515 §2); an Ed25519 `x` goes through the one
 * key parser (no small-order or non-canonical point). Undefined for anything else.
 */
function importJwk(jwk: Readonly<Record<string, unknown>>): KeyObject | undefined {
  const { kty, crv, x, y } = jwk;
  const xBytes = typeof x === "string" ? decodeBase64url(x) : undefined;
  if (xBytes?.length !== COORDINATE_BYTES) return undefined;
  if (kty === "OKP" && crv === "Ed25519") return ed25519PublicKey(xBytes)?.keyObject;
  if (kty !== "EC" || crv !== "P-256" || typeof y !== "string") return undefined;
  if (decodeBase64url(y)?.length !== COORDINATE_BYTES) return undefined;
  try {
    return createPublicKey({ key: { kty, crv, x, y }, format: "jwk" } as Parameters<
      typeof createPublicKey
    >[0]);
  } catch {
    return undefined;
  }
}

/**
 * Imported keys by RFC 7638 thumbprint: the thumbprint is SHA-256 over exactly the members
 * imported (kty, crv, x, and y for EC), so one thumbprint is one key. Bounded, emptied when full.
 */
const MAX_CACHED_KEYS = 1024;
const imported = new Map<string, KeyObject>();

/** The key and thumbprint of a public JWK, or undefined (cached by thumbprint). */
export function importPublicJwk(jwk: Readonly<Record<string, unknown>>): ImportedJwk | undefined {
  const jkt = jwkThumbprint(jwk);
  if (jkt === undefined) return undefined;
  let publicKey = imported.get(jkt);
  if (!publicKey) {
    publicKey = importJwk(jwk);
    if (!publicKey) return undefined;
    if (imported.size >= MAX_CACHED_KEYS) imported.clear();
    imported.set(jkt, publicKey);
  }
  return { jkt, publicKey };
}
