import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { RegisterAgentRequest } from "../../../gen/gatehouse/v1/registry_pb.js";
import { deriveAgentDid } from "../../crypto/did.js";
import { decodeDidKey, isDidKey } from "../../crypto/did-key.js";
import { verifyEd25519 } from "../../crypto/ed25519.js";
import { registrationSigningInput } from "../../crypto/signing-input.js";
import { GatehouseError } from "../../errors/index.js";
import type { Caller } from "../../identity/caller.js";
import type { AgentRecord, RegistryStore } from "../../store/ports.js";
import { policyFromMessage } from "./convert.js";
import { requireOperatorStanding } from "./ownership.js";
import { screenedPublicKeyHex } from "./public-key.js";

export interface RegisterDeps {
  readonly registry: RegistryStore;
  readonly now: number;
  readonly maxTokenTtlSeconds: number;
}

/**
 * Registration: the caller must be an active operator with a verified domain; the DID must be
 * the one derived from the key under the caller's own domain, or the did:key encoding the key
 * (the agent still belongs to the caller's domain); the key must pass the one Ed25519 key
 * parser (no small-order or non-canonical point); the agent must prove it holds the key.
 */
export async function registerAgent(
  deps: RegisterDeps,
  caller: Caller,
  request: RegisterAgentRequest,
): Promise<AgentRecord> {
  const domain = caller.operatorDomain;
  const operator = await requireOperatorStanding(deps.registry, caller, "write", deps.now);
  if (!domain || !operator) throw new GatehouseError(Reason.PERMISSION_DENIED);
  if (operator.status !== "active") throw new GatehouseError(Reason.OPERATOR_SUSPENDED);
  const didKey = isDidKey(request.did);
  // A did:key names no domain: the agent belongs to the caller's domain, recorded below.
  if (!didKey && !request.did.startsWith(`did:agent:${domain}:`)) {
    throw new GatehouseError(Reason.OPERATOR_MISMATCH, { field: "did" });
  }
  // The one key parser before the DID is matched to the key or any signature is checked.
  const publicKeyHex = screenedPublicKeyHex(request.publicKey, "public_key");
  const named = didKey ? decodeDidKey(request.did) : undefined;
  const matches = didKey
    ? named !== undefined && Buffer.from(named).equals(request.publicKey)
    : deriveAgentDid(domain, request.publicKey) === request.did;
  if (!matches) throw new GatehouseError(Reason.DID_KEY_MISMATCH, { field: "did" });
  const input = registrationSigningInput(request.did, request.publicKey, domain);
  if (!verifyEd25519(request.publicKey, input, request.proofOfPossession)) {
    throw new GatehouseError(Reason.PROOF_OF_POSSESSION_INVALID, { field: "proof_of_possession" });
  }
  const agent: AgentRecord = {
    did: request.did,
    operatorDomain: domain,
    publicKeyHex,
    status: "active",
    policy: policyFromMessage(request.policy, "policy", deps.maxTokenTtlSeconds),
    policyVersion: 1,
    displayName: request.displayName,
    createdAt: deps.now,
    updatedAt: deps.now,
    revision: 1,
  };
  if ((await deps.registry.createAgent(agent)) === "exists") {
    throw new GatehouseError(Reason.AGENT_ALREADY_EXISTS);
  }
  return agent;
}
