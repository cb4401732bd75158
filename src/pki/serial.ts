import { randomBytes } from "node:crypto";

/**
 * A random 16-byte serial number as hex. The high bit is cleared so the DER
 * INTEGER stays positive and within the 20-octet limit of RFC 5280 §4.1.2.2;
 * the remaining 127 random bits make serials unpredictable and unique.
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}
