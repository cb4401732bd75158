import { timingSafeEqual } from "node:crypto";

/**
 * The one constant-time comparison: equal bytes, in time independent of where they differ
 * (the length is not secret). Strings compare as their UTF-8 bytes.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const left = typeof a === "string" ? Buffer.from(a, "utf8") : a;
  const right = typeof b === "string" ? Buffer.from(b, "utf8") : b;
  return left.length === right.length && timingSafeEqual(left, right);
}
