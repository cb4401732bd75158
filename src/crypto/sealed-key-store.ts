import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { SigningKeyRecord, SigningKeyStore } from "../store/ports.js";

/**
 * Sealing of signing keys stored outside the data directory (Redis): a decorator around
 * the SigningKeyStore port, so adapters stay unaware of it. Each private key is sealed with
 * AES-256-GCM under a random 96-bit IV, with the kid as additional data: a sealed key
 * copied onto another record (another kid) fails to open. Only `privateKeyPem` is secret;
 * kid, alg and times stay readable for operators.
 *
 * Fail closed: a record that does not open (wrong encryption key, tampered, or stored
 * unencrypted, which would let whoever can write to Redis plant a signing key) stops the
 * listing with a `SealedKeyError` naming the kid, never any key material.
 */

/** Marks a sealed `privateKeyPem`: `gh-sealed:v1:` + base64url(IV ‖ ciphertext ‖ tag). */
export const SEALED_PREFIX = "gh-sealed:v1:";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealedKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealedKeyError";
  }
}

/** True when a stored `privateKeyPem` is sealed (a store read without the encryption key). */
export function isSealed(privateKeyPem: string): boolean {
  return privateKeyPem.startsWith(SEALED_PREFIX);
}

/** Decodes a 32-byte key given in base64 or base64url (as `keys.encryptionKey` holds it). */
export function decodeEncryptionKey(encoded: string): Buffer {
  const key = Buffer.from(encoded, "base64");
  if (key.length !== KEY_BYTES) {
    throw new SealedKeyError("the key encryption key must be 32 bytes (value not shown)");
  }
  return key;
}

export function sealPrivateKey(key: Buffer, kid: string, privateKeyPem: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(kid, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(privateKeyPem, "utf8"), cipher.final()]);
  const sealed = Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
  return `${SEALED_PREFIX}${sealed.toString("base64url")}`;
}

export function openPrivateKey(key: Buffer, kid: string, stored: string): string {
  if (!isSealed(stored)) {
    throw new SealedKeyError(
      `signing key ${kid} is stored unencrypted although keys.encryptionKey is set; ` +
        "refusing to use it",
    );
  }
  const sealed = Buffer.from(stored.slice(SEALED_PREFIX.length), "base64url");
  if (sealed.length < IV_BYTES + TAG_BYTES + 1) throw cannotOpen(kid);
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const ciphertext = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(Buffer.from(kid, "utf8"));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
  } catch {
    throw cannotOpen(kid);
  }
}

function cannotOpen(kid: string): SealedKeyError {
  return new SealedKeyError(
    `cannot decrypt signing key ${kid}: wrong keys.encryptionKey ` +
      "(GATEHOUSE_KEY_ENCRYPTION_KEY) or a tampered record",
  );
}

/** Wraps `inner` so every private key it holds is sealed under `encryptionKey` (32 bytes). */
export function sealedKeyStore(inner: SigningKeyStore, encryptionKey: Buffer): SigningKeyStore {
  if (encryptionKey.length !== KEY_BYTES) {
    throw new SealedKeyError("the key encryption key must be 32 bytes (value not shown)");
  }
  const key = Buffer.from(encryptionKey);
  return {
    async list() {
      const records = await inner.list();
      return records.map(
        (record): SigningKeyRecord => ({
          ...record,
          privateKeyPem: openPrivateKey(key, record.kid, record.privateKeyPem),
        }),
      );
    },
    async add(record) {
      await inner.add({
        ...record,
        privateKeyPem: sealPrivateKey(key, record.kid, record.privateKeyPem),
      });
    },
  };
}
