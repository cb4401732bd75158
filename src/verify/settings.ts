import type { GatehouseConfig } from "../config/index.js";
import type { VerifySettings } from "./types.js";

/** How long verifiers may cache a decision: short, so revocation bites. */
const DECISION_CACHE_SECONDS = 30;

/** The Verify pipeline's settings, from the sections it reads. */
export function verifySettings(config: Pick<GatehouseConfig, "issuer" | "tokens">): VerifySettings {
  return {
    issuer: config.issuer,
    clockSkewSeconds: config.tokens.clockSkewSeconds,
    maxTokenTtlSeconds: config.tokens.maxTtlSeconds,
    maxCacheTtlSeconds: DECISION_CACHE_SECONDS,
  };
}
