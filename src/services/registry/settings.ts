import type { GatehouseConfig } from "../../config/index.js";
import type { RegistryDeps } from "./index.js";

/** The registry's settings (the rest of its deps are collaborators). */
export type RegistrySettings = Pick<
  RegistryDeps,
  | "maxTokenTtlSeconds"
  | "clockSkewSeconds"
  | "signingAlg"
  | "keyPublicationDelaySeconds"
  | "domainVerificationTtlSeconds"
>;

export function registrySettings(
  config: Pick<GatehouseConfig, "tokens" | "keys" | "domains">,
): RegistrySettings {
  const { tokens } = config;
  return {
    maxTokenTtlSeconds: tokens.maxTtlSeconds,
    clockSkewSeconds: tokens.clockSkewSeconds,
    signingAlg: tokens.signingAlg,
    keyPublicationDelaySeconds: config.keys.publicationDelaySeconds,
    domainVerificationTtlSeconds: config.domains.verificationTtlSeconds,
  };
}
