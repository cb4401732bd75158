import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ChallengeKind, DidProofChallengeSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import { verifyEd25519 } from "../../crypto/ed25519.js";
import type { AgentRecord } from "../../store/ports.js";
import type { ChallengeKindPlugin, ChallengeRecord } from "../types.js";

/** The text Auth4Agent-style clients sign; a new text would be a new kind, never a reinterpretation. */
export function didProofMessage(challengeId: string, nonce: string): Buffer {
  return Buffer.from(`auth4agents-challenge:${challengeId}:${nonce}`, "utf8");
}

/** The signature check of a stored DID-proof challenge, with the agent's registered key. */
export function verifyDidProof(
  agent: AgentRecord | undefined,
  challengeId: string,
  record: ChallengeRecord,
  signature: Uint8Array,
): boolean {
  const nonce = record.state.nonce;
  if (agent === undefined || nonce === undefined) return false;
  const message = didProofMessage(challengeId, nonce);
  return verifyEd25519(Buffer.from(agent.publicKeyHex, "hex"), message, signature);
}

/**
 * Proof of possession in the legacy form (RFC 8032 Ed25519 over `didProofMessage`). The
 * signed text binds only the challenge and its nonce; the record binds the caller and the DID,
 * and the grant that redeems it (token/flows/did-proof.ts) names the scopes and audience.
 * Submit never accepts it (submit.ts), so its answer case is only the shape of the signature.
 */
export const didProofKind: ChallengeKindPlugin<"signature"> = {
  kind: ChallengeKind.DID_PROOF,
  answerCase: "signature",

  async issue(context) {
    const nonce = randomBytes(32).toString("hex");
    const expiresAt = context.record.issuedAt + context.defaultTtlMs;
    const body = create(DidProofChallengeSchema, { nonce });
    return { state: { nonce }, body: { case: "didProof", value: body }, expiresAt };
  },

  async verify(context, answer) {
    return verifyDidProof(
      await context.agent(),
      context.challengeId,
      context.record,
      answer.signature,
    );
  },
};
