import { hash } from "node:crypto";

/** RFC 9449 §4.2 `ath`: base64url(SHA-256(ASCII access token)). */
export function accessTokenHash(accessToken: string): string {
  return hash("sha256", Buffer.from(accessToken, "ascii"), "base64url");
}
