import type { GatehouseConfig } from "../config/index.js";
import { didProofKind } from "./did-proof/index.js";
import { createHashcashKind } from "./hashcash/index.js";
import { createIteratedHashKind } from "./iterated-hash/index.js";
import { createReasoningKind } from "./reasoning/index.js";
import { signatureKind } from "./signature/index.js";
import type { ChallengeKindPlugin, ChallengeKinds } from "./types.js";

export type { ChallengeKindPlugin, ChallengeKinds } from "./types.js";

/** The installed kinds, and how to release what they hold (worker threads) at shutdown. */
export interface InstalledKinds {
  readonly kinds: ChallengeKinds;
  close(): Promise<void>;
}

/**
 * The installed challenge kinds, configured once at start-up. A new kind is a new folder
 * plus one entry here.
 */
export function createChallengeKinds(config: Pick<GatehouseConfig, "challenges">): InstalledKinds {
  const { challenges } = config;
  const iteratedHash = createIteratedHashKind({
    iterations: challenges.iteratedHashIterations,
    workers: challenges.computeWorkers,
  });
  const plugins: ChallengeKindPlugin[] = [
    signatureKind as ChallengeKindPlugin,
    didProofKind as ChallengeKindPlugin,
    iteratedHash.plugin as ChallengeKindPlugin,
    createHashcashKind({
      difficultyBits: challenges.hashcashDifficultyBits,
    }) as ChallengeKindPlugin,
    createReasoningKind(config) as ChallengeKindPlugin,
  ];
  return {
    kinds: new Map(plugins.map((plugin) => [plugin.kind, plugin])),
    close: () => iteratedHash.close(),
  };
}
