import { hash } from "node:crypto";
import { LruCache } from "../../cache/lru-cache.js";
import { encodeBase64url } from "./base64url.js";

/**
 * The members RFC 7638 §3.2 hashes for each key type (required public members only, RFC 7638
 * §3.2.1 for EC/RSA, RFC 8037 §2 for OKP), already in lexicographic order (§3.3).
 */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ["crv", "kty", "x", "y"],
  OKP: ["crv", "kty", "x"],
  RSA: ["e", "kty", "n"],
};

/**
 * RFC 7638 §3.1 JWK thumbprint: base64url(SHA-256(the required members, lexicographic order,
 * no whitespace)). Undefined for an unknown `kty` or a missing or non-string member. The
 * member values are plain base64url or short names, so JSON.stringify adds no escapes (§3.3).
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const members = typeof jwk.kty === "string" ? REQUIRED_MEMBERS[jwk.kty] : undefined;
  if (!members) return undefined;
  const canonical: Record<string, string> = {};
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== "string" || value === "") return undefined;
    canonical[member] = value;
  }
  return hash("sha256", JSON.stringify(canonical), "base64url");
}

/** The thumbprint of a raw 32-byte Ed25519 public key as an OKP JWK (RFC 8037 §2). */
export function ed25519Thumbprint(publicKey: Uint8Array): string {
  return jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: encodeBase64url(publicKey) }) ?? "";
}

/**
 * Thumbprints of agents' keys (hex, as the registry stores them) by the key: a login computes
 * its agent's two or three times, a DPoP Verify once per call. The thumbprint is a function
 * of the key alone, so the memo keeps its key complete. Bounded; a miss only recomputes.
 */
const byHexKey = new LruCache<string>(4096);

/** `ed25519Thumbprint` of a key given in hex, memoized. */
export function ed25519ThumbprintOfHex(publicKeyHex: string): string {
  let thumbprint = byHexKey.get(publicKeyHex);
  if (thumbprint === undefined) {
    thumbprint = ed25519Thumbprint(Buffer.from(publicKeyHex, "hex"));
    byHexKey.set(publicKeyHex, thumbprint);
  }
  return thumbprint;
}
