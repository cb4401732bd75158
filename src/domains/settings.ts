import { absolutePath, boolean, dnsServerList, integer } from "../config/parsers.js";
import { setting } from "../config/setting.js";

/** Operators' domain ownership checks (src/domains): where they look, and how long a proof holds. */
export const domainsSection = {
  dnsServers: setting({
    env: "GATEHOUSE_DOMAIN_DNS_SERVERS",
    default: [],
    parse: dnsServerList,
    shownDefault: "the system's",
    doc: "resolvers for operators' domain proofs, `ip` or `ip:port` (env: comma-separated)",
  }),
  timeoutMs: setting({
    env: "GATEHOUSE_DOMAIN_TIMEOUT_MS",
    default: 5_000,
    parse: integer(100, 60_000),
    doc: "bound on one proof check: DNS, connect, TLS, headers and body (100..60000)",
  }),
  httpsPort: setting({
    env: "GATEHOUSE_DOMAIN_HTTPS_PORT",
    default: 443,
    parse: integer(1, 65_535),
    doc: "port the `/.well-known/gatehouse-verification` file is fetched from",
  }),
  // No environment variable: a switch for tests, not one to flip by accident in production.
  allowPrivateAddresses: setting({
    default: false,
    parse: boolean,
    doc: "tests only: fetch the well-known file from loopback and private addresses",
  }),
  caFile: setting({
    env: "GATEHOUSE_DOMAIN_CA",
    parse: absolutePath,
    shownDefault: "Node's roots",
    doc: "extra CA (PEM) trusted for the well-known file",
  }),
  verificationTtlSeconds: setting({
    env: "GATEHOUSE_DOMAIN_VERIFICATION_TTL",
    default: 30 * 86_400,
    parse: integer(60, 366 * 86_400),
    doc: "a DNS or HTTPS proof holds this long (30 days), then the operator verifies again",
  }),
};
