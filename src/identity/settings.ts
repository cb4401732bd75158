import { boolean, integer, ipList, secret } from "../config/parsers.js";
import { setting } from "../config/setting.js";

/**
 * Identity forwarded by a TLS-terminating proxy (src/identity/forwarded.ts). Off unless
 * enabled; when enabled, the peers and the secret are required (checks.ts).
 */
export const proxySection = {
  enabled: setting({
    env: "GATEHOUSE_PROXY_ENABLED",
    default: false,
    parse: boolean,
    doc: "accept identities forwarded by a trusted proxy (see below)",
  }),
  trustedPeers: setting({
    env: "GATEHOUSE_PROXY_TRUSTED_PEERS",
    parse: ipList,
    doc: "IPs / CIDRs the proxy connects from (env: comma-separated); required when enabled",
  }),
  hmacSecret: setting({
    env: "GATEHOUSE_PROXY_HMAC_SECRET",
    parse: secret(32),
    secret: true,
    doc: "HMAC-SHA256 key, at least 32 bytes; required when enabled",
  }),
  maxAgeSeconds: setting({
    env: "GATEHOUSE_PROXY_MAX_AGE",
    default: 30,
    parse: integer(1, 300),
    doc: "accepted age of `x-gatehouse-forwarded-at`, either way (1..300)",
  }),
};
