import { deriveAgentDid } from "../../../../src/crypto/did.js";
import { encodeDidKey } from "../../../../src/crypto/did-key.js";
import type { AgentKey } from "./key.js";

/** The agent's `did:agent:<operator-domain>:<id>` (id: first 16 bytes of SHA-256(key), hex). */
export function agentDid(key: AgentKey, operatorDomain: string): string {
  return deriveAgentDid(operatorDomain, key.publicKey);
}

/** The agent's `did:key` (Ed25519): registrable instead of its did:agent DID. */
export function agentDidKey(key: AgentKey): string {
  return encodeDidKey(key.publicKey);
}
