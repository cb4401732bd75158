import type { CertificateUsage } from "./issue-certificate.js";
import { adminUri, operatorUri, proxyUri, verifierUri } from "./role-uris.js";

/** Everything `gatehouse certs issue` can mint: the four caller roles plus a server. */
export const CERTIFICATE_ROLES = [
  "admin",
  "operator",
  "verifier",
  "proxy",
  "agent",
  "server",
] as const;
export type CertificateRole = (typeof CERTIFICATE_ROLES)[number];

/** Who a certificate is for; each role carries exactly the value its identity is built from. */
export type RoleIdentity =
  | { readonly role: "admin" | "verifier" | "proxy"; readonly name: string }
  | { readonly role: "operator"; readonly domain: string }
  | { readonly role: "agent"; readonly did: string }
  | {
      readonly role: "server";
      readonly dnsNames: readonly string[];
      readonly ipAddresses: readonly string[];
    };

/** The subject fields of a role's certificate, ready to spread into `issueCertificate`. */
export interface RoleCertificateSpec {
  readonly commonName: string;
  readonly usage: CertificateUsage;
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/**
 * Maps a role identity to its certificate subject. Client roles are carried by
 * a URI SAN (a SPIFFE ID, or the agent's DID); a server by its DNS and IP SANs.
 */
export function roleCertificateSpec(
  trustDomain: string,
  identity: RoleIdentity,
): RoleCertificateSpec {
  const client = { usage: "client", dnsNames: [], ipAddresses: [] } as const;
  switch (identity.role) {
    case "admin":
      return { ...client, commonName: identity.name, uris: [adminUri(trustDomain, identity.name)] };
    case "verifier":
      return {
        ...client,
        commonName: identity.name,
        uris: [verifierUri(trustDomain, identity.name)],
      };
    case "proxy":
      return { ...client, commonName: identity.name, uris: [proxyUri(trustDomain, identity.name)] };
    case "operator":
      return {
        ...client,
        commonName: identity.domain,
        uris: [operatorUri(trustDomain, identity.domain)],
      };
    case "agent":
      return { ...client, commonName: commonNameFor(identity.did), uris: [identity.did] };
    case "server":
      return {
        usage: "server",
        commonName: commonNameFor(identity.dnsNames[0] ?? identity.ipAddresses[0] ?? "server"),
        uris: [],
        dnsNames: identity.dnsNames,
        ipAddresses: identity.ipAddresses,
      };
  }
}

/**
 * X.520 caps a common name at 64 characters. The CN is only a label for humans
 * (identity lives in the SANs), so a longer value is cut rather than refused.
 */
function commonNameFor(value: string): string {
  return value.slice(0, 64);
}
