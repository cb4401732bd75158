import type { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import { signatureKind } from "./signature/index.js";
import type { ChallengeKindPlugin } from "./types.js";

/** The installed challenge kinds. A new kind is a new folder plus one line here. */
export const CHALLENGE_KINDS: ReadonlyMap<ChallengeKind, ChallengeKindPlugin> = new Map(
  [signatureKind as ChallengeKindPlugin].map((plugin) => [plugin.kind, plugin]),
);
