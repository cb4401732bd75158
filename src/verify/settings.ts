import type { GatehouseConfig } from "../config/index.js";
import { integer } from "../config/parsers.js";
import { setting } from "../config/setting.js";
import type { VerifySettings } from "./types.js";

/** Verify's in-process caches (src/verify/cache.ts). */
export const verifyCacheSection = {
  cacheTtlMs: setting({
    env: "GATEHOUSE_VERIFY_CACHE_TTL_MS",
    default: 2_000,
    parse: integer(0, 60_000),
    doc: "longest a replica reuses an agent, operator or revocation look-up when an invalidation message is lost (0..60000; `0` turns Verify's caches off); see [Revocation propagation](#revocation-propagation)",
  }),
  cacheMaxEntries: setting({
    env: "GATEHOUSE_VERIFY_CACHE_MAX_ENTRIES",
    default: 10_000,
    parse: integer(1, 1_000_000),
    doc: "entries per in-process cache (LRU)",
  }),
};

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
