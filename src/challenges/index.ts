import { signatureKind } from "./signature/index.js";
import type { ChallengeKindPlugin, ChallengeKinds } from "./types.js";

export type { ChallengeKindPlugin, ChallengeKinds } from "./types.js";

/** The installed challenge kinds. A new kind is a new folder plus one entry here. */
export function createChallengeKinds(): ChallengeKinds {
  const plugins: ChallengeKindPlugin[] = [signatureKind as ChallengeKindPlugin];
  return new Map(plugins.map((plugin) => [plugin.kind, plugin]));
}
