import { createHash, X509Certificate } from "node:crypto";

/** The roles the per-RPC policy table grants. */
export type Role = "agent" | "operator" | "admin" | "verifier" | "proxy" | "claimant";

/**
 * Who is calling, extracted once per connection from the verified client certificate.
 * Identity = the certificate's SHA-256 fingerprint, plus the role its URI SAN names.
 */
export interface Caller {
  /** Lowercase hex SHA-256 of the client certificate's DER. */
  readonly fingerprint: string;
  /** Every URI SAN of the certificate. */
  readonly uris: readonly string[];
  /** The one role the certificate names; undefined when none or several (fail closed). */
  readonly role?: Role;
  /** For agents: the DID in the URI SAN; for claimants, the DID claimed (not yet proven). */
  readonly did?: string;
  /** For operators: the trust domain the certificate is issued for. */
  readonly operatorDomain?: string;
  /** For admins, verifiers and proxies: the name in the URI. */
  readonly name?: string;
  /**
   * For a caller a trusted proxy forwarded with the v2 MAC: the IP address the proxy's client
   * connected from (src/identity/forwarded.ts). The call's source address, not the proxy's.
   */
  readonly address?: string;
}

/** A caller with no certificate: matches no role, so every table entry refuses it. */
export const ANONYMOUS: Caller = Object.freeze({ fingerprint: "", uris: [] });

interface RoleClaim {
  readonly role: Role;
  readonly did?: string;
  readonly operatorDomain?: string;
  readonly name?: string;
}

/** Builds the caller from a DER certificate that TLS has already verified against the CA. */
export function callerFromCertificate(der: Uint8Array, trustDomain: string): Caller {
  const fingerprint = createHash("sha256").update(der).digest("hex");
  const uris = uriSans(new X509Certificate(der).subjectAltName ?? "");
  const claims = uris.flatMap((uri) => roleClaim(uri, trustDomain) ?? []);
  // Exactly one role URI: a certificate naming two roles is ambiguous and gets none.
  const claim = claims.length === 1 ? claims[0] : undefined;
  return Object.freeze({ fingerprint, uris, ...(claim ?? {}) });
}

function roleClaim(uri: string, trustDomain: string): RoleClaim | undefined {
  if (uri.startsWith("did:agent:") || uri.startsWith("did:key:"))
    return { role: "agent", did: uri };
  const prefix = `spiffe://${trustDomain}/`;
  if (!uri.startsWith(prefix)) return undefined;
  const [kind, value, ...rest] = uri.slice(prefix.length).split("/");
  if (!value || rest.length > 0) return undefined;
  switch (kind) {
    case "admin":
      return { role: "admin", name: value };
    case "verifier":
      return { role: "verifier", name: value };
    // A proxy (the HTTP sidecar) speaking for itself: public reads and Verify for forward-auth.
    case "proxy":
      return { role: "proxy", name: value };
    case "operator":
      return { role: "operator", operatorDomain: value };
    default:
      return undefined;
  }
}

/**
 * Parses Node's `subjectAltName` text ("DNS:a, URI:b, …"). Node quotes a value that holds
 * a comma or quote as a JSON string, so quoted values are decoded with JSON.parse.
 */
export function uriSans(subjectAltName: string): string[] {
  const uris: string[] = [];
  const pattern = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const match of subjectAltName.matchAll(pattern)) {
    const [, type, raw = ""] = match;
    if (type !== "URI") continue;
    uris.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return uris;
}
