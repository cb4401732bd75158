import type { GatehouseConfig } from "../config/index.js";
import { signatureKind } from "./signature/index.js";
import type { ChallengeKindPlugin, ChallengeKinds } from "./types.js";

export type { ChallengeKindPlugin, ChallengeKinds } from "./types.js";

/**
 * The installed challenge kinds, configured once at start-up. A new kind is a new folder
 * plus one entry here.
 */
export function createChallengeKinds(_config: GatehouseConfig): ChallengeKinds {
  const plugins: ChallengeKindPlugin[] = [signatureKind as ChallengeKindPlugin];
  return new Map(plugins.map((plugin) => [plugin.kind, plugin]));
}
