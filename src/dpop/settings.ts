import type { GatehouseConfig } from "../config/index.js";
import { boolean, integer, secret } from "../config/parsers.js";
import { setting } from "../config/setting.js";
import type { DpopSettings } from "./verifier.js";

/**
 * DPoP (RFC 9449). Server nonces are stateless: an HMAC of the time slot under `nonceSecret`,
 * so every replica given the same secret issues and accepts the same nonces (src/dpop/nonce.ts).
 */
export const dpopSection = {
  maxAgeSeconds: setting({
    env: "GATEHOUSE_DPOP_MAX_AGE",
    default: 60,
    parse: integer(5, 600),
    doc: "oldest accepted proof `iat` (RFC 9449 §11.1); also the nonce slot length",
  }),
  nonces: setting({
    env: "GATEHOUSE_DPOP_NONCES",
    default: false,
    parse: boolean,
    doc: "require server-issued DPoP nonces (RFC 9449 §8, §9)",
  }),
  nonceSecret: setting({
    env: "GATEHOUSE_DPOP_NONCE_SECRET",
    parse: secret(32),
    secret: true,
    doc: "HMAC key for nonces, ≥ 32 bytes, shared by replicas; required when nonces are on",
  }),
};

/** The DPoP verifier's settings: the `dpop` section, and the tokens' clock skew. */
export function dpopSettings(config: Pick<GatehouseConfig, "dpop" | "tokens">): DpopSettings {
  const { maxAgeSeconds, nonceSecret } = config.dpop;
  return {
    maxAgeSeconds,
    clockSkewSeconds: config.tokens.clockSkewSeconds,
    ...(nonceSecret === undefined ? {} : { nonceSecret }),
  };
}
