import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateSigningKey } from "../../../src/crypto/key-ring.js";
import {
  decodeEncryptionKey,
  openPrivateKey,
  SealedKeyError,
  sealedKeyStore,
  sealPrivateKey,
} from "../../../src/crypto/sealed-key-store.js";
import type { SigningKeyRecord, SigningKeyStore } from "../../../src/store/ports.js";

/** A store that keeps exactly what it is given, so the test sees the stored form. */
function rawStore(): SigningKeyStore & { raw: SigningKeyRecord[] } {
  const raw: SigningKeyRecord[] = [];
  return {
    raw,
    list: async () => [...raw],
    add: async (key) => {
      raw.push(key);
    },
  };
}

describe("sealedKeyStore", () => {
  it("stores the private key sealed and lists it opened", async () => {
    const key = randomBytes(32);
    const inner = rawStore();
    const store = sealedKeyStore(inner, key);
    const record = await generateSigningKey("EdDSA", 1_000);
    await store.add(record);

    const [stored] = inner.raw;
    expect(stored).toMatchObject({ kid: record.kid, alg: "EdDSA", activateAt: 1_000 });
    expect(stored?.privateKeyPem).toMatch(/^gh-sealed:v1:[A-Za-z0-9_-]+$/);
    expect(stored?.privateKeyPem).not.toContain("PRIVATE KEY");
    expect(await store.list()).toEqual([record]);
  });

  it("uses a fresh IV for every seal", () => {
    const key = randomBytes(32);
    expect(sealPrivateKey(key, "kid", "pem")).not.toBe(sealPrivateKey(key, "kid", "pem"));
  });

  it("fails closed on a wrong key, naming the kid but no key material", async () => {
    const inner = rawStore();
    const record = await generateSigningKey("ES256", 0);
    await sealedKeyStore(inner, randomBytes(32)).add(record);
    const error = await sealedKeyStore(inner, randomBytes(32))
      .list()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealedKeyError);
    expect((error as Error).message).toContain(record.kid);
    expect((error as Error).message).toMatch(/wrong keys\.encryptionKey/);
    expect((error as Error).message).not.toContain(inner.raw[0]?.privateKeyPem.slice(13, 40));
  });

  it("binds the sealed key to its kid (AAD) and detects tampering", () => {
    const key = randomBytes(32);
    const sealed = sealPrivateKey(key, "kid-a", "secret pem");
    expect(openPrivateKey(key, "kid-a", sealed)).toBe("secret pem");
    expect(() => openPrivateKey(key, "kid-b", sealed)).toThrow(SealedKeyError);
    // Flip one bit of every byte in turn (IV, ciphertext, tag): each must be detected. Editing
    // the text instead could touch only the base64 padding bits, which decode to the same bytes.
    const prefix = sealed.slice(0, sealed.lastIndexOf(":") + 1);
    const bytes = Buffer.from(sealed.slice(prefix.length), "base64url");
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      expect(() => openPrivateKey(key, "kid-a", prefix + tampered.toString("base64url"))).toThrow(
        SealedKeyError,
      );
    }
    expect(() => openPrivateKey(key, "kid-a", "gh-sealed:v1:AAAA")).toThrow(SealedKeyError);
  });

  it("refuses a record stored unencrypted (it could have been planted)", async () => {
    const inner = rawStore();
    const record = await generateSigningKey("EdDSA", 0);
    await inner.add(record);
    await expect(sealedKeyStore(inner, randomBytes(32)).list()).rejects.toThrow(/unencrypted/);
  });

  it("decodes base64 and base64url keys of 32 bytes only", () => {
    const bytes = randomBytes(32);
    expect(decodeEncryptionKey(bytes.toString("base64"))).toEqual(bytes);
    expect(decodeEncryptionKey(bytes.toString("base64url"))).toEqual(bytes);
    expect(() => decodeEncryptionKey(randomBytes(16).toString("base64"))).toThrow(SealedKeyError);
    expect(() => sealedKeyStore(rawStore(), randomBytes(16))).toThrow(SealedKeyError);
  });
});
