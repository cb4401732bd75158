import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import type { Clock } from "../clock.js";
import { ed25519KeyObjectAcceptable } from "../crypto/ed25519.js";
import { ed25519Thumbprint } from "../crypto/jose/thumbprint.js";
import { isSealed, openPrivateKey, sealPrivateKey } from "../crypto/sealed-key-store.js";
import type { AuditLogStore } from "../store/ports.js";

/** The server's audit key: one Ed25519 key per store, shared by every replica. */
export interface AuditKey {
  /** RFC 7638 thumbprint of the public key (recorded in every entry). */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Loads the store's audit key, creating it on first use (set-if-absent, so replicas racing
 * at start agree on one). It is a separate key from the token-signing keys: it never
 * rotates with them and never appears in the JWKS. With an encryption key (Redis) the
 * private key is sealed at rest exactly like signing keys; an unsealed key is then refused.
 */
export async function loadAuditKey(
  log: AuditLogStore,
  clock: Clock,
  encryptionKey?: Buffer,
): Promise<AuditKey> {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const kid = ed25519Thumbprint(rawPublicKey(publicKey));
  const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const stored = await log.key({
    kid,
    privateKeyPem: encryptionKey ? sealPrivateKey(encryptionKey, kid, pem) : pem,
    createdAt: clock.now(),
  });
  if (isSealed(stored.privateKeyPem) && !encryptionKey) {
    throw new Error(`audit key ${stored.kid} is sealed; set the key encryption key`);
  }
  const storedPem = encryptionKey
    ? openPrivateKey(encryptionKey, stored.kid, stored.privateKeyPem)
    : stored.privateKeyPem;
  const storedPrivate = createPrivateKey(storedPem);
  const storedPublic = createPublicKey(storedPrivate);
  // Read back from the store: through the one key parser like any key from outside.
  if (!ed25519KeyObjectAcceptable(storedPublic)) {
    throw new Error(`audit key ${stored.kid} is not a sound Ed25519 key`);
  }
  if (ed25519Thumbprint(rawPublicKey(storedPublic)) !== stored.kid) {
    throw new Error(`audit key ${stored.kid} does not match its kid`);
  }
  return { kid: stored.kid, privateKey: storedPrivate, publicKey: storedPublic };
}

/** The raw 32-byte Ed25519 public key (RFC 8032 §5.1.5), as published by GetAuditKeys. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  return Buffer.from(jwk.x ?? "", "base64url");
}
