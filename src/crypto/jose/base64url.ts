/**
 * base64url without padding (RFC 7515 §2, RFC 4648 §5), decoded strictly: one byte string has
 * exactly one accepted spelling. Node's decoder is lenient (it ignores characters outside the
 * alphabet and non-zero pad bits), so a second spelling of a signature would verify too.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

const CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** The 6-bit value of each base64url character, by character code. */
const SEXTET = new Map([...CHARACTERS].map((char, value) => [char.charCodeAt(0), value]));

/**
 * The bytes `text` encodes, or undefined unless it is canonical unpadded base64url: only the
 * URL-safe alphabet, no `=`, no length that leaves a lone character (length mod 4 = 1), and
 * zero pad bits in the last character (RFC 4648 §3.5: "canonical encoding").
 */
export function decodeBase64url(text: string): Buffer | undefined {
  const rest = text.length % 4;
  if (rest === 1 || !ALPHABET.test(text)) return undefined;
  if (rest !== 0) {
    // 2 characters carry 1 byte (4 pad bits); 3 carry 2 bytes (2 pad bits).
    const padBits = rest === 2 ? 0x0f : 0x03;
    if (((SEXTET.get(text.charCodeAt(text.length - 1)) ?? 0) & padBits) !== 0) return undefined;
  }
  return Buffer.from(text, "base64url");
}

/** Unpadded base64url (RFC 7515 §2). */
export function encodeBase64url(bytes: Uint8Array | string): string {
  return (typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes)).toString(
    "base64url",
  );
}
