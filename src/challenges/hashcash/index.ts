import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ChallengeKind, HashcashChallengeSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import type { ChallengeKindPlugin } from "../types.js";
import { hashcashSolved } from "./solved.js";

export { hashcashSolved, leadingZeroBits } from "./solved.js";

export interface HashcashSettings {
  /** D for newly issued challenges (a challenge keeps the D it was issued with). */
  readonly difficultyBits: number;
}

/** Hashcash proof of work: costly to find, one SHA-256 to check. */
export function createHashcashKind(settings: HashcashSettings): ChallengeKindPlugin<"hashcash"> {
  return {
    kind: ChallengeKind.HASHCASH,
    answerCase: "hashcash",

    async issue(context) {
      // Server-chosen and fresh, so no work can be done before the challenge exists.
      const prefix = randomBytes(32).toString("base64url");
      const difficultyBits = settings.difficultyBits;
      const body = create(HashcashChallengeSchema, { prefix, difficultyBits });
      return {
        state: { prefix, difficultyBits: String(difficultyBits) },
        body: { case: "hashcash", value: body },
        expiresAt: context.record.issuedAt + context.defaultTtlMs,
      };
    },

    async verify(context, answer) {
      const { prefix, difficultyBits } = context.record.state;
      if (prefix === undefined || difficultyBits === undefined) return false;
      return hashcashSolved(prefix, answer.nonce, Number(difficultyBits));
    },
  };
}
