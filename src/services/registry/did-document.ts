import type { JsonObject } from "@bufbuild/protobuf";
import { ed25519PublicKeyMultibase } from "../../crypto/did-key.js";
import type { AgentRecord } from "../../store/ports.js";
import { agentKeyHistory } from "./convert.js";

/** DID Core v1 and the Ed25519Signature2020 suite (which defines Ed25519VerificationKey2020). */
export const DID_DOCUMENT_CONTEXT = [
  "https://www.w3.org/ns/did/v1",
  "https://w3id.org/security/suites/ed25519-2020/v1",
];

/** Whether the agent can no longer act (DID resolution metadata `deactivated`). */
export function isDeactivated(agent: AgentRecord): boolean {
  return agent.status === "revoked" || agent.status === "deleted";
}

/**
 * The agent's W3C DID document. Every key it ever had is a verification method
 * (`<did>#<publicKeyMultibase>`, as did:key documents name theirs); a retired key carries
 * `revoked` (xsd:dateTime of its retirement) and only the current key is in
 * `authentication` and `assertionMethod` (neither lists anything once the agent is
 * deactivated).
 */
export function didDocument(agent: AgentRecord): JsonObject {
  const did = agent.did;
  const methods = agentKeyHistory(agent).map((key) => {
    const multibase = ed25519PublicKeyMultibase(Buffer.from(key.publicKeyHex, "hex"));
    return {
      id: `${did}#${multibase}`,
      type: "Ed25519VerificationKey2020",
      controller: did,
      publicKeyMultibase: multibase,
      ...(key.retiredAt !== undefined && { revoked: new Date(key.retiredAt).toISOString() }),
    };
  });
  const current = methods[methods.length - 1]?.id;
  const active = current !== undefined && !isDeactivated(agent) ? [current] : [];
  return {
    "@context": [...DID_DOCUMENT_CONTEXT],
    id: did,
    verificationMethod: methods,
    authentication: active,
    assertionMethod: [...active],
  };
}
