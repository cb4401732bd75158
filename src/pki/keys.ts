import { createPrivateKey, KeyObject, webcrypto } from "node:crypto";

/**
 * ECDSA P-256 for every key Gatehouse mints: all TLS stacks its callers use
 * (Node, Go, Envoy, browsers) accept it, and signing is cheap.
 */
const P256: webcrypto.EcKeyImportParams = { name: "ECDSA", namedCurve: "P-256" };

/** A fresh, extractable P-256 key pair (extractable so the private key can be written out). */
export function generateP256KeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(P256, true, ["sign", "verify"]);
}

/** PKCS#8 PEM, the form `node:tls` and most other TLS stacks load directly. */
export function exportPrivateKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: "pkcs8", format: "pem" }).toString();
}

/**
 * Imports a PEM private key (PKCS#8 or SEC1) as a WebCrypto signing key.
 * Going through `createPrivateKey` first accepts both encodings and lets us
 * reject a non-P-256 key with a clear message instead of a WebCrypto error.
 */
export function importP256SigningKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new Error("expected an ECDSA P-256 private key");
  }
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  return webcrypto.subtle.importKey("pkcs8", pkcs8, P256, false, ["sign"]);
}
