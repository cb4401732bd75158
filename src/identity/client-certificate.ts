import { createHash, X509Certificate } from "node:crypto";
import type { Clock } from "../clock.js";
import { type Caller, callerFromCertificate } from "./caller.js";

/** What a client certificate is checked against. */
export interface CertificateTrust {
  readonly trustDomain: string;
  /** PEM bundle of the CA certificates client certificates must be issued by. */
  readonly ca: Buffer;
  readonly clock: Clock;
}

/** A certificate's caller, or why it names none. */
export type CertificateVerdict = { readonly caller: Caller } | { readonly problem: string };

/** Checks one client certificate (DER, or already parsed) and builds its caller. */
export type ClientCertificateCheck = (
  certificate: Uint8Array | X509Certificate,
) => CertificateVerdict;

/** RFC 5280 §4.2.1.12: id-kp-clientAuth. */
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/**
 * The one gate every client certificate passes before it names a caller, whether presented
 * over mTLS (the TLS handshake verified it first; this repeats it, once per connection) or
 * forwarded by a trusted proxy (nothing verified it yet). Then the caller is read from its
 * URI SAN by the one parser (callerFromCertificate): exactly one role, or none.
 */
export function createClientCertificateCheck(trust: CertificateTrust): ClientCertificateCheck {
  const issuers = pemCertificates(trust.ca);
  return (input) => {
    const certificate = input instanceof X509Certificate ? input : new X509Certificate(input);
    const problem = certificateProblem(certificate, issuers, trust.clock.now());
    if (problem !== undefined) return { problem };
    return { caller: callerFromCertificate(certificate.raw, trust.trustDomain) };
  };
}

/**
 * The caller of a certificate the TLS peer presented. One that fails the checks is kept apart
 * by its fingerprint but names no role, so the policy table refuses it every RPC
 * (UNAUTHENTICATED), as it refuses a certificate naming no role.
 */
export function peerCertificateCaller(check: ClientCertificateCheck, der: Uint8Array): Caller {
  const verdict = check(der);
  if ("caller" in verdict) return verdict.caller;
  return Object.freeze({ fingerprint: createHash("sha256").update(der).digest("hex"), uris: [] });
}

/** The first check `certificate` fails at `now`, in RFC 5280's order, or undefined. */
function certificateProblem(
  certificate: X509Certificate,
  issuers: readonly X509Certificate[],
  now: number,
): string | undefined {
  // §4.1.2.5: within its validity period.
  if (!validAt(certificate, now)) return "certificate not valid now";
  // §4.2.1.9: an end-entity certificate; a CA's own certificate authenticates no caller.
  if (certificate.ca) return "certificate is a CA certificate";
  // §6.1.3 (a): issued by a trusted CA (issuer name and signature), itself a CA valid now.
  const issued = issuers.some(
    (ca) =>
      ca.ca && validAt(ca, now) && certificate.checkIssued(ca) && certificate.verify(ca.publicKey),
  );
  if (!issued) return "certificate not issued by the CA";
  // §4.2.1.12: usable for TLS client authentication (a serverAuth-only certificate is not).
  if (!certificate.keyUsage?.includes(CLIENT_AUTH)) {
    return "certificate's extended key usage lacks clientAuth";
  }
  return undefined;
}

function validAt(certificate: X509Certificate, now: number): boolean {
  return Date.parse(certificate.validFrom) <= now && now <= Date.parse(certificate.validTo);
}

function pemCertificates(bundle: Buffer): X509Certificate[] {
  const blocks = bundle
    .toString()
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return (blocks ?? []).map((pem) => new X509Certificate(pem));
}
