import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A 256-bit random, URL-safe identifier (43 base64url characters). */
export function randomId(): string {
  return randomBytes(32).toString("base64url");
}

/** Lowercase hex SHA-256 (used to key secrets in the store by their hash, never by value). */
export function sha256Hex(value: string | Uint8Array): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time equality of two strings (length is not secret). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
