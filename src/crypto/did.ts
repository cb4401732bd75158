import { createHash } from "node:crypto";

/**
 * `did:agent:<operator-domain>:<id>`, where `<id>` is the lowercase hex of the first 16
 * bytes of SHA-256 over the raw 32-byte Ed25519 public key (the derivation existing
 * Auth4Agent-style clients use, so their DIDs stay valid).
 */
export function deriveAgentDid(operatorDomain: string, publicKeyRaw: Uint8Array): string {
  const id = createHash("sha256").update(publicKeyRaw).digest().subarray(0, 16).toString("hex");
  return `did:agent:${operatorDomain}:${id}`;
}

/** The operator domain of a `did:agent` DID, or undefined for any other DID. */
export function agentDidDomain(did: string): string | undefined {
  const match = /^did:agent:([a-z0-9.-]+):[0-9a-f]{32}$/.exec(did);
  return match?.[1];
}
