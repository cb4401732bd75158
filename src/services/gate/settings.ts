import type { GatehouseConfig } from "../../config/index.js";
import type { GateSettings } from "./deps.js";
import { runtimeBoundsByKind } from "./submit-steps/runtime.js";

/** The Gate service's settings, from the sections it reads. */
export function gateSettings(
  config: Pick<GatehouseConfig, "issuer" | "sidecar" | "challenges" | "tokens" | "runtime">,
): GateSettings {
  const { tokens, challenges, runtime } = config;
  return {
    issuer: config.issuer,
    publicUrl: publicUrlOf(config),
    challengeTtlSeconds: challenges.ttlSeconds,
    passTtlSeconds: challenges.passTtlSeconds,
    defaultTokenTtlSeconds: tokens.defaultTtlSeconds,
    maxTokenTtlSeconds: tokens.maxTtlSeconds,
    clockSkewSeconds: tokens.clockSkewSeconds,
    assertionMaxLifetimeSeconds: tokens.assertionMaxLifetimeSeconds,
    runtime: { toleranceMs: runtime.toleranceMs, bounds: runtimeBoundsByKind(runtime) },
  };
}

/** Where the sidecar is reached: the URLs the metadata advertises, and DPoP's token `htu`. */
export function publicUrlOf(config: Pick<GatehouseConfig, "issuer" | "sidecar">): string {
  return config.sidecar.publicUrl ?? config.issuer;
}
