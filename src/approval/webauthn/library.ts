/**
 * The WebAuthn library, loaded on the first ceremony: the approval page is served by default,
 * but ceremonies are rare, human-paced moments, so a server that never sees one does not hold
 * the library and its ASN.1 and CBOR dependencies (about 4 MiB of heap; docs/performance.md,
 * "Idle RSS"). The module system keeps the one loaded copy.
 */
export function webAuthnLibrary(): Promise<typeof import("@simplewebauthn/server")> {
  return import("@simplewebauthn/server");
}
