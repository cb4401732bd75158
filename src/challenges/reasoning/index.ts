import { randomBytes, randomInt } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, ReasoningChallengeSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import type { GatehouseConfig } from "../../config/index.js";
import { constantTimeEqual } from "../../crypto/constant-time.js";
import { sha256Hex } from "../../crypto/random.js";
import { GatehouseError } from "../../errors/index.js";
import type { ChallengeKindPlugin } from "../types.js";
import { canonicalize, isAnswerKind } from "./canonicalize.js";
import { generate } from "./families/index.js";
import { isReasoningFamily, REASONING_FAMILIES, type ReasoningFamily } from "./family-names.js";

interface FamilySettings {
  readonly difficulty: number;
  readonly deadlineMs: number;
}

/**
 * The stored state holds no answer: only a digest of the canonical answer salted with the
 * challenge id (which the store never sees in clear), so a store dump reveals nothing usable.
 */
function answerDigest(challengeId: string, canonicalAnswer: string): string {
  return sha256Hex(`${challengeId}\0${canonicalAnswer}`);
}

/**
 * Reasoning tasks generated fresh from a random seed (see docs/reasoning-threat-model.md for
 * what passing one proves). Difficulty and deadline are configured per family.
 */
export function createReasoningKind(
  config: Pick<GatehouseConfig, "challenges">,
): ChallengeKindPlugin<"reasoning"> {
  const { reasoningDifficulty, reasoningDeadlineSeconds, reasoningFamilies } = config.challenges;
  const settingsOf = (family: ReasoningFamily): FamilySettings => {
    const own = reasoningFamilies[family];
    const deadlineSeconds = own?.deadlineSeconds ?? reasoningDeadlineSeconds;
    return {
      difficulty: own?.difficulty ?? reasoningDifficulty,
      deadlineMs: deadlineSeconds * 1000,
    };
  };

  return {
    kind: ChallengeKind.REASONING,
    answerCase: "reasoning",

    async issue(context) {
      const requested = context.preferences.reasoningFamily;
      if (requested !== "" && !isReasoningFamily(requested)) {
        throw new GatehouseError(Reason.INVALID_ARGUMENT, {
          field: "reasoning_family",
          description: "unknown reasoning family",
        });
      }
      const family =
        requested || (REASONING_FAMILIES[randomInt(REASONING_FAMILIES.length)] as ReasoningFamily);
      const { difficulty, deadlineMs } = settingsOf(family);
      const task = generate(family, randomBytes(32), difficulty);
      const reasoning = create(ReasoningChallengeSchema, {
        family,
        prompt: task.prompt,
        answerFormat: task.answerFormat,
        difficulty,
      });
      return {
        body: { case: "reasoning", value: reasoning },
        state: {
          answerKind: task.answerKind,
          digest: answerDigest(context.challengeId, task.answer),
        },
        expiresAt: context.record.issuedAt + deadlineMs,
      };
    },

    async verify(context, answer) {
      const { answerKind, digest } = context.record.state;
      if (answerKind === undefined || digest === undefined || !isAnswerKind(answerKind)) {
        return false;
      }
      const submitted = answerDigest(context.challengeId, canonicalize(answerKind, answer.answer));
      return constantTimeEqual(submitted, digest);
    },
  };
}
