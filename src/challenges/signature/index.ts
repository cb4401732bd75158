import { create } from "@bufbuild/protobuf";
import { ChallengeKind, SignatureChallengeSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import { verifyEd25519 } from "../../crypto/ed25519.js";
import { SIGNING_INPUT_FORMAT } from "../../crypto/signing-input.js";
import type { ChallengeKindPlugin } from "../types.js";
import { challengeSigningInput } from "./signing-input.js";

/** Proof of possession of the agent's registered Ed25519 key (RFC 8032). */
export const signatureKind: ChallengeKindPlugin<"signature"> = {
  kind: ChallengeKind.SIGNATURE,
  answerCase: "signature",

  async issue(context) {
    const expiresAt = context.record.issuedAt + context.defaultTtlMs;
    const signature = create(SignatureChallengeSchema, {
      signingInput: challengeSigningInput({
        ...context.record,
        challengeId: context.challengeId,
        issuer: context.issuer,
        expiresAt,
      }),
      format: SIGNING_INPUT_FORMAT,
      issuer: context.issuer,
      caller: context.record.caller,
    });
    return { state: {}, body: { case: "signature", value: signature }, expiresAt };
  },

  async verify(context, answer) {
    const agent = await context.agent();
    if (!agent) return false;
    const { challengeId, issuer, record } = context;
    const input = challengeSigningInput({ ...record, challengeId, issuer });
    return verifyEd25519(Buffer.from(agent.publicKeyHex, "hex"), input, answer.signature);
  },
};
