import { parseEd25519PublicKey } from "./ed25519.js";

/**
 * `did:key` for Ed25519 (W3C CCG did:key method): `did:key:` + multibase base58btc (`z`) of
 * the multicodec `ed25519-pub` varint (0xed 0x01) followed by the raw 32-byte public key.
 * The same `z…` string is the key's `publicKeyMultibase` (Ed25519VerificationKey2020).
 */

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const ALPHABET_INDEX = new Map([...ALPHABET].map((char, i) => [char, i]));
/** The multicodec `ed25519-pub` (0xed) as an unsigned varint. */
const ED25519_PUB = Uint8Array.of(0xed, 0x01);
const DID_KEY_PREFIX = "did:key:";
/** A did:key of any size DIDs are allowed to have (the contract's pattern allows 40–60). */
const MAX_ENCODED_LENGTH = 128;

/** Base58 with the Bitcoin alphabet; each leading zero byte becomes a leading `1`. */
export function base58btcEncode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // Base-58 digits, least significant first.
  const digits: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i] as number;
    for (let j = 0; j < digits.length; j++) {
      carry += (digits[j] as number) << 8;
      digits[j] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = "1".repeat(zeros);
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i] as number];
  return out;
}

/** The bytes of a base58btc string; undefined when it holds a character outside the alphabet. */
export function base58btcDecode(text: string): Uint8Array | undefined {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  // Bytes, least significant first.
  const bytes: number[] = [];
  for (let i = zeros; i < text.length; i++) {
    const value = ALPHABET_INDEX.get(text[i] as string);
    if (value === undefined) return undefined;
    let carry = value;
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] as number) * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let i = 0; i < bytes.length; i++) out[out.length - 1 - i] = bytes[i] as number;
  return out;
}

/** `z` + base58btc(0xed 0x01 ‖ key): the key's multibase form (Ed25519VerificationKey2020). */
export function ed25519PublicKeyMultibase(publicKeyRaw: Uint8Array): string {
  if (publicKeyRaw.length !== 32) throw new RangeError("Ed25519 public key must be 32 bytes");
  const bytes = new Uint8Array(34);
  bytes.set(ED25519_PUB, 0);
  bytes.set(publicKeyRaw, 2);
  return `z${base58btcEncode(bytes)}`;
}

/** The raw key of an Ed25519 `publicKeyMultibase`; undefined for anything else. */
export function ed25519FromMultibase(multibase: string): Uint8Array | undefined {
  if (!multibase.startsWith("z") || multibase.length > MAX_ENCODED_LENGTH) return undefined;
  const bytes = base58btcDecode(multibase.slice(1));
  if (bytes?.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) return undefined;
  return bytes.slice(2);
}

/** `did:key:z6Mk…` for a raw 32-byte Ed25519 public key. */
export function encodeDidKey(publicKeyRaw: Uint8Array): string {
  return `${DID_KEY_PREFIX}${ed25519PublicKeyMultibase(publicKeyRaw)}`;
}

/**
 * The raw Ed25519 key a `did:key` encodes; undefined when the DID is not a did:key, or
 * encodes another key type, or has the wrong length, or a key the one Ed25519 key parser
 * refuses (small order, non-canonical point). Strict: only the canonical encoding is
 * accepted (decoding then re-encoding gives the same DID).
 */
export function decodeDidKey(did: string): Uint8Array | undefined {
  if (!did.startsWith(DID_KEY_PREFIX)) return undefined;
  const key = ed25519FromMultibase(did.slice(DID_KEY_PREFIX.length));
  if (key === undefined || encodeDidKey(key) !== did) return undefined;
  return parseEd25519PublicKey(key).ok ? key : undefined;
}

/** Whether `did` uses the did:key method (whatever it encodes). */
export function isDidKey(did: string): boolean {
  return did.startsWith(DID_KEY_PREFIX);
}
