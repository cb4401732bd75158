import { sign } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RegisterAgentRequestSchema } from "../../../../gen/gatehouse/v1/registry_pb.js";
import {
  registrationSigningInput,
  rotationSigningInput,
} from "../../../../src/crypto/signing-input.js";
import type { AgentKey } from "./key.js";

/** The proof of possession RegisterAgent requires: the agent key signs its own registration. */
export function proofOfPossession(key: AgentKey, did: string, operatorDomain: string): Uint8Array {
  return sign(null, registrationSigningInput(did, key.publicKey, operatorDomain), key.privateKey);
}

export type RegisterAgentInit = MessageInitShape<typeof RegisterAgentRequestSchema>;

/**
 * The RegisterAgent request for `did` (its did:agent or did:key), with the agent's proof of
 * possession. The agent builds it; its operator sends it (RegistryService.RegisterAgent).
 */
export function registrationRequest(
  key: AgentKey,
  did: string,
  operatorDomain: string,
  rest: Omit<RegisterAgentInit, "$typeName" | "did" | "publicKey" | "proofOfPossession"> = {},
): RegisterAgentInit {
  return {
    ...rest,
    did,
    publicKey: key.publicKey,
    proofOfPossession: proofOfPossession(key, did, operatorDomain),
  };
}

/** The two signatures RotateAgentKey requires: by the current key and by the new key. */
export function rotationSignatures(
  currentKey: AgentKey,
  newKey: AgentKey,
  did: string,
  operatorDomain: string,
): { currentKeySignature: Uint8Array; newKeyProof: Uint8Array } {
  const input = rotationSigningInput(did, currentKey.publicKey, newKey.publicKey, operatorDomain);
  return {
    currentKeySignature: sign(null, input, currentKey.privateKey),
    newKeyProof: sign(null, input, newKey.privateKey),
  };
}
