import { LegacyRefusal } from "../refusal.js";

/** What `POST /v1/token` carries in `proof` (W3C Data Integrity, Ed25519Signature2020 form). */
export interface Auth4AgentProof {
  readonly challenge: string;
  readonly signature: Buffer;
}

const TEXT = /^[\x20-\x7e]{1,256}$/;

/**
 * The proof object, checked for the exact shape Auth4Agent-style clients send: `type`
 * `Ed25519Signature2020`, `proofPurpose` `authentication`, `verificationMethod` the DID's
 * `#key-1`, a `created` time, the `challenge` and `nonce` they were given, and `signature`
 * in standard base64 of 64 bytes. The signature itself is Gatehouse's to check (over
 * `auth4agents-challenge:<challenge>:<nonce>`, with the nonce it stored, not this one).
 */
export function parseProof(value: unknown, did: string): Auth4AgentProof {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad("proof must be an object");
  }
  const proof = value as Record<string, unknown>;
  if (proof.type !== "Ed25519Signature2020") throw bad("proof.type must be Ed25519Signature2020");
  if (proof.proofPurpose !== "authentication") {
    throw bad("proof.proofPurpose must be authentication");
  }
  if (proof.verificationMethod !== `${did}#key-1`) {
    throw bad("proof.verificationMethod must be the DID's #key-1");
  }
  for (const name of ["created", "challenge", "nonce"]) {
    const member = proof[name];
    if (typeof member !== "string" || !TEXT.test(member)) throw bad(`proof.${name} is required`);
  }
  const signature = proof.signature;
  const bytes = typeof signature === "string" ? Buffer.from(signature, "base64") : undefined;
  // Standard base64 exactly (RFC 4648 §4): decoding and re-encoding must give it back.
  if (bytes === undefined || bytes.length !== 64 || bytes.toString("base64") !== signature) {
    throw bad("proof.signature must be a base64 Ed25519 signature");
  }
  return { challenge: proof.challenge as string, signature: bytes };
}

function bad(detail: string): LegacyRefusal {
  return new LegacyRefusal(400, detail);
}
