/** The label the TXT record goes under: `_gatehouse-challenge.<domain>`. */
const CHALLENGE_LABEL = "_gatehouse-challenge";
/** A TXT record proves ownership when its text is this prefix followed by the token. */
export const TXT_VALUE_PREFIX = "gatehouse-verification=";
/** RFC 8615 well-known URI path of the HTTPS proof. */
export const WELL_KNOWN_PATH = "/.well-known/gatehouse-verification";
export const DEFAULT_HTTPS_PORT = 443;

/** Where an operator publishes its token, one place per proof method. */
export interface DomainProofLocations {
  /** The DNS name the TXT record goes under. */
  readonly dnsRecordName: string;
  /** The URL the well-known file is fetched from. */
  readonly httpsUrl: string;
}

export function dnsRecordName(domain: string): string {
  return `${CHALLENGE_LABEL}.${domain}`;
}

/** The name Auth4Agent-style operators publish under, accepted as an alias (same text). */
export function legacyDnsRecordName(domain: string): string {
  return `_auth4agents.${domain}`;
}

/** `host[:port]`: the port only when it is not the default (RFC 9110 §4.2.2, §7.2). */
export function authority(domain: string, port: number): string {
  return port === DEFAULT_HTTPS_PORT ? domain : `${domain}:${port}`;
}

export function proofLocations(domain: string, httpsPort: number): DomainProofLocations {
  return {
    dnsRecordName: dnsRecordName(domain),
    httpsUrl: `https://${authority(domain, httpsPort)}${WELL_KNOWN_PATH}`,
  };
}
