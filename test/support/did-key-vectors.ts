import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AgentKey } from "../../clients/typescript/src/agent/index.js";

/** One entry of the W3C CCG did:key Ed25519 vectors (test/vectors/README.md names the source). */
export interface DidKeyVector {
  readonly did: string;
  /** The vector's RFC 8032 private key (hex). */
  readonly seed: string;
  /** The raw public key as the vector publishes it (base58 or a JWK's `x`). */
  readonly publicKey: Buffer;
  /** The id of the vector document's Ed25519 verification method. */
  readonly verificationMethodId: string;
}

interface RawVector {
  seed: string;
  verificationKeyPair: { publicKeyBase58?: string; publicKeyJwk?: { x: string } };
  didDocument: { verificationMethod: { id: string }[] };
}

/** Decodes the vectors' own `publicKeyBase58`, independently of src/crypto/did-key.ts. */
function base58(text: string): Buffer {
  const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let value = 0n;
  for (const char of text) value = value * 58n + BigInt(alphabet.indexOf(char));
  const hex = value.toString(16).padStart(64, "0");
  return Buffer.from(hex, "hex");
}

export function loadDidKeyVectors(): DidKeyVector[] {
  const url = new URL("../vectors/did-key-ed25519-x25519.json", import.meta.url);
  const raw = JSON.parse(readFileSync(url, "utf8")) as Record<string, RawVector>;
  return Object.entries(raw).map(([did, vector]) => {
    const pair = vector.verificationKeyPair;
    const publicKey =
      pair.publicKeyBase58 !== undefined
        ? base58(pair.publicKeyBase58)
        : Buffer.from(pair.publicKeyJwk?.x ?? "", "base64url");
    return {
      did,
      seed: vector.seed,
      publicKey,
      verificationMethodId: vector.didDocument.verificationMethod[0]?.id ?? "",
    };
  });
}

// RFC 8410 PKCS#8 wrapper for a raw Ed25519 private key.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** The vector's key pair, from its seed. */
export function vectorKey(vector: DidKeyVector): AgentKey {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, Buffer.from(vector.seed, "hex")]),
    format: "der",
    type: "pkcs8",
  });
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  return { privateKey, publicKey: Buffer.from(jwk.x ?? "", "base64url") };
}
