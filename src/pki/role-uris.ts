/**
 * URI SANs that carry Gatehouse roles in client certificates. Agents are the
 * exception: their certificate's URI SAN is their DID, not a SPIFFE ID.
 */

/** `spiffe://<td>/admin/<name>`: may manage operators, agents and policy. */
export function adminUri(trustDomain: string, name: string): string {
  return `spiffe://${trustDomain}/admin/${name}`;
}

/** `spiffe://<td>/operator/<domain>`: may manage the agents of one operator domain. */
export function operatorUri(trustDomain: string, operatorDomain: string): string {
  return `spiffe://${trustDomain}/operator/${operatorDomain}`;
}

/** `spiffe://<td>/verifier/<name>`: a service or mesh that calls Verify. */
export function verifierUri(trustDomain: string, name: string): string {
  return `spiffe://${trustDomain}/verifier/${name}`;
}

/**
 * `spiffe://<td>/proxy/<name>`: a TLS-terminating proxy that may forward its clients'
 * identities (HMAC-authenticated, see src/identity/forwarded.ts). It has no role of its own.
 */
export function proxyUri(trustDomain: string, name: string): string {
  return `spiffe://${trustDomain}/proxy/${name}`;
}
