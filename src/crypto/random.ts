import { createHash, randomBytes } from "node:crypto";

/** A 256-bit random, URL-safe identifier (43 base64url characters). */
export function randomId(): string {
  return randomBytes(32).toString("base64url");
}

/** Lowercase hex SHA-256 (used to key secrets in the store by their hash, never by value). */
export function sha256Hex(value: string | Uint8Array): string {
  return createHash("sha256").update(value).digest("hex");
}
