import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { RotateAgentKeyRequest } from "../../../gen/gatehouse/v1/registry_pb.js";
import { isDidKey } from "../../crypto/did-key.js";
import { verifyEd25519 } from "../../crypto/ed25519.js";
import { ed25519Thumbprint } from "../../crypto/jose/thumbprint.js";
import { rotationSigningInput } from "../../crypto/signing-input.js";
import { GatehouseError } from "../../errors/index.js";
import type { Caller } from "../../identity/caller.js";
import { PublicKeyInUseError } from "../../store/common.js";
import type { AgentRecord, Store } from "../../store/ports.js";
import { isDeactivated } from "./did-document.js";
import { getOwnedAgent } from "./ownership.js";
import { screenedPublicKeyHex } from "./public-key.js";

/**
 * Key rotation: the caller must own the agent; the agent must not be revoked or deleted
 * and must not be a did:key (that DID is its key); the current key and the new key must
 * both sign the rotation signing input; the new key must never have been registered. The
 * old key is retired (kept in the record, reserved forever) and the DID stays the same.
 * Compare-and-set, retried when another writer got there first.
 */
export async function rotateAgentKey(
  { registry, revocations }: Pick<Store, "registry" | "revocations">,
  caller: Caller,
  request: RotateAgentKeyRequest,
  now: number,
): Promise<AgentRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getOwnedAgent(registry, caller, request.did, "write", now);
    // The one key parser: a weak (small-order) or non-canonical new key is INVALID_ARGUMENT.
    const newKeyHex = screenedPublicKeyHex(request.newPublicKey, "new_public_key");
    if (isDeactivated(current)) throw new GatehouseError(Reason.AGENT_REVOKED);
    if (isDidKey(current.did)) {
      throw new GatehouseError(Reason.DID_KEY_MISMATCH, {
        field: "did",
        description: "a did:key DID is its key and cannot rotate",
      });
    }
    const currentKey = Buffer.from(current.publicKeyHex, "hex");
    // A revoked key authorizes nothing, a rotation least of all: whoever stole it would
    // rotate to a key of their own. Recovery from a compromise is a new agent.
    if (await revocations.isRevoked("agent_key", ed25519Thumbprint(currentKey))) {
      throw new GatehouseError(Reason.AGENT_KEY_REVOKED);
    }
    const input = rotationSigningInput(
      current.did,
      currentKey,
      request.newPublicKey,
      current.operatorDomain,
    );
    if (!verifyEd25519(currentKey, input, request.currentKeySignature)) {
      throw new GatehouseError(Reason.PROOF_OF_POSSESSION_INVALID, {
        field: "current_key_signature",
      });
    }
    if (!verifyEd25519(request.newPublicKey, input, request.newKeyProof)) {
      throw new GatehouseError(Reason.PROOF_OF_POSSESSION_INVALID, { field: "new_key_proof" });
    }
    if (newKeyHex === current.publicKeyHex) {
      throw new GatehouseError(Reason.AGENT_ALREADY_EXISTS, { field: "new_public_key" });
    }
    const next: AgentRecord = {
      ...current,
      publicKeyHex: newKeyHex,
      keyCreatedAt: now,
      retiredKeys: [
        ...(current.retiredKeys ?? []),
        {
          publicKeyHex: current.publicKeyHex,
          createdAt: current.keyCreatedAt ?? current.createdAt,
          retiredAt: now,
        },
      ],
      updatedAt: now,
      revision: current.revision + 1,
    };
    try {
      if (await registry.updateAgent(next, current.revision)) return next;
    } catch (error) {
      if (error instanceof PublicKeyInUseError) {
        throw new GatehouseError(Reason.AGENT_ALREADY_EXISTS, { field: "new_public_key" });
      }
      throw error;
    }
  }
  throw new GatehouseError(Reason.UNAVAILABLE, { description: "agent is being changed" });
}
