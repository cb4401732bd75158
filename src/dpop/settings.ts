import type { GatehouseConfig } from "../config/index.js";
import type { DpopSettings } from "./verifier.js";

/** The DPoP verifier's settings: the `dpop` section, and the tokens' clock skew. */
export function dpopSettings(config: Pick<GatehouseConfig, "dpop" | "tokens">): DpopSettings {
  const { maxAgeSeconds, nonceSecret } = config.dpop;
  return {
    maxAgeSeconds,
    clockSkewSeconds: config.tokens.clockSkewSeconds,
    ...(nonceSecret === undefined ? {} : { nonceSecret }),
  };
}
