import { absolutePath, httpsUrl, text } from "../config/parsers.js";
import { setting } from "../config/setting.js";

/**
 * Platform (hardware / cloud) attestation: JWTs of one attestation issuer, verified against
 * its key set (a local JWKS file or an https JWKS URL, exactly one). Without an issuer no
 * platform attestation can be verified, so a policy that requires one refuses every Submit.
 */
export const attestationSection = {
  platformIssuer: setting({
    env: "GATEHOUSE_PLATFORM_ISSUER",
    parse: text(1024),
    doc: "`iss` of platform attestation JWTs; unset: every platform attestation is refused, so a policy requiring one refuses every Submit (fail closed)",
  }),
  platformAudience: setting({
    env: "GATEHOUSE_PLATFORM_AUDIENCE",
    parse: text(1024),
    shownDefault: "`issuer`",
    doc: "`aud` platform tokens must carry (algs: ES256, EdDSA, RS256; `exp`, `iat`, `nonce` = challenge id required)",
  }),
  platformJwksFile: setting({
    env: "GATEHOUSE_PLATFORM_JWKS_FILE",
    parse: absolutePath,
    doc: "the issuer's JWKS, read at start-up (exactly one of file and URL)",
  }),
  platformJwksUrl: setting({
    env: "GATEHOUSE_PLATFORM_JWKS_URL",
    parse: httpsUrl,
    doc: "the issuer's JWKS, https only, fetched on first use (5 s timeout), cached 10 min",
  }),
  platformJwksCaFile: setting({
    env: "GATEHOUSE_PLATFORM_JWKS_CA",
    parse: absolutePath,
    shownDefault: "Node's roots",
    doc: "extra CA (PEM) trusted for the JWKS URL, e.g. a private PKI",
  }),
};
