import { readFile } from "node:fs/promises";
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";
import type { Clock } from "../../clock.js";
import type { GatehouseConfig } from "../../config/index.js";
import { httpsFetch } from "./https-fetch.js";
import { createJwtIssuerVerifier } from "./jwt-issuer.js";
import type { PlatformAttestationVerifier } from "./types.js";

export type { PlatformAttestationVerifier, PlatformBinding, PlatformClaims } from "./types.js";

const JWKS_TIMEOUT_MS = 5_000;

/**
 * The configured platform attestation verifier, or undefined when no attestation issuer is
 * configured: then every platform attestation is refused (fail closed), including every Submit
 * of an agent whose policy requires one. A JWKS file is read once, now; a JWKS URL is fetched
 * on first use and cached by jose (refetched for an unknown `kid`, at most every 30 s).
 */
export async function createPlatformAttestationVerifier(
  config: GatehouseConfig,
  clock: Clock,
): Promise<PlatformAttestationVerifier | undefined> {
  const { platformIssuer, platformAudience } = config.attestation;
  if (platformIssuer === undefined) return undefined;
  return createJwtIssuerVerifier({
    issuer: platformIssuer,
    audience: platformAudience ?? config.issuer,
    keys: await keySet(config.attestation),
    clock,
    clockSkewSeconds: config.tokens.clockSkewSeconds,
  });
}

async function keySet(attestation: GatehouseConfig["attestation"]): Promise<JWTVerifyGetKey> {
  const { platformJwksUrl, platformJwksFile, platformJwksCaFile } = attestation;
  if (platformJwksUrl !== undefined) {
    const ca =
      platformJwksCaFile === undefined ? undefined : await readFile(platformJwksCaFile, "utf8");
    return createRemoteJWKSet(new URL(platformJwksUrl), {
      timeoutDuration: JWKS_TIMEOUT_MS,
      [customFetch]: httpsFetch(ca),
    });
  }
  if (platformJwksFile === undefined) throw new Error("platform attestation issuer has no JWKS");
  return createLocalJWKSet(JSON.parse(await readFile(platformJwksFile, "utf8")));
}
