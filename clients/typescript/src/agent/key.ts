import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";

/** An agent's Ed25519 key pair; the private key never leaves the agent. */
export interface AgentKey {
  readonly privateKey: KeyObject;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
}

/** A fresh Ed25519 key pair (RFC 8032), generated locally. */
export function generateAgentKey(): AgentKey {
  return agentKeyFromPrivateKey(generateKeyPairSync("ed25519").privateKey);
}

/** The key in a PKCS#8 PEM (what `gatehouse agent keygen` writes). */
export function agentKeyFromPem(pem: string): AgentKey {
  return agentKeyFromPrivateKey(createPrivateKey(pem));
}

/** A caller-supplied Ed25519 private key (e.g. from a KMS export or a secret manager). */
export function agentKeyFromPrivateKey(privateKey: KeyObject): AgentKey {
  if (privateKey.type !== "private" || privateKey.asymmetricKeyType !== "ed25519") {
    throw new TypeError("an agent key must be an Ed25519 private key");
  }
  const { x = "" } = createPublicKey(privateKey).export({ format: "jwk" });
  return { privateKey, publicKey: Buffer.from(x, "base64url") };
}

/** The private key as PKCS#8 PEM, for storage. */
export function agentKeyToPem(key: AgentKey): string {
  return key.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}
