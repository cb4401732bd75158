import { rootCertificates } from "node:tls";
import { createDnsLookup } from "./dns-lookup.js";
import { checkDnsTxt } from "./dns-txt.js";
import { verificationFailed } from "./failure.js";
import { checkWellKnown } from "./https-well-known.js";
import { DEFAULT_HTTPS_PORT, type DomainProofLocations, proofLocations } from "./locations.js";

export type { DomainProofLocations } from "./locations.js";

/** How an operator proves it owns its domain (an admin attestation needs no check). */
export type DomainProofMethod = "dns_txt" | "https_well_known";

export interface DomainVerifierOptions {
  /** Resolvers as `ip` or `ip:port` (`[v6]:port`); absent or empty: the system's. */
  readonly dnsServers?: readonly string[];
  /** Bound on a whole check: DNS, connect, TLS, headers and body. Default 5000. */
  readonly timeoutMs?: number;
  /** The port the well-known file is fetched from. Default 443. */
  readonly httpsPort?: number;
  /** Tests only: let the HTTPS proof come from loopback and private addresses. */
  readonly allowPrivateAddresses?: boolean;
  /** The largest well-known file accepted. Default 4096. */
  readonly maxBodyBytes?: number;
  /** CA certificates (PEM) trusted besides Node's roots, e.g. a private PKI. */
  readonly ca?: readonly string[];
}

export interface DomainVerifier {
  /**
   * Resolves when `domain` publishes `token` by `method`; otherwise throws
   * DOMAIN_VERIFICATION_FAILED with a public description of what failed.
   */
  check(domain: string, method: DomainProofMethod, token: string): Promise<void>;
  /** Where the operator publishes the token for each method. */
  locations(domain: string): DomainProofLocations;
}

const DEFAULTS = {
  dnsServers: [] as readonly string[],
  timeoutMs: 5_000,
  httpsPort: DEFAULT_HTTPS_PORT,
  allowPrivateAddresses: false,
  maxBodyBytes: 4_096,
};

/** Lowercase DNS name of two labels or more, the last starting with a letter (no IP literal). */
const DOMAIN =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function createDomainVerifier(options: DomainVerifierOptions = {}): DomainVerifier {
  const settings = { ...DEFAULTS, ...options };
  const dns = createDnsLookup({ servers: settings.dnsServers, timeoutMs: settings.timeoutMs });
  const wellKnown = {
    dns,
    port: settings.httpsPort,
    allowPrivateAddresses: settings.allowPrivateAddresses,
    maxBodyBytes: settings.maxBodyBytes,
    ca: options.ca?.length ? [...rootCertificates, ...options.ca] : undefined,
  };
  return {
    async check(domain, method, token) {
      if (!DOMAIN.test(domain)) throw verificationFailed("not a DNS name");
      // An empty token would be "proven" by an empty file: there is nothing to check against.
      if (token === "") throw verificationFailed("no verification token was issued");
      const signal = AbortSignal.timeout(settings.timeoutMs);
      switch (method) {
        case "dns_txt":
          return checkDnsTxt(dns, domain, token, signal);
        case "https_well_known":
          return checkWellKnown(wellKnown, domain, token, signal);
        default:
          throw verificationFailed("unknown verification method");
      }
    },
    locations: (domain) => proofLocations(domain, settings.httpsPort),
  };
}
