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
  // What does not change with time, per parsed certificate: a caller that passes the same
  // X509Certificate again (the forwarded path keeps them) skips the signature check.
  const settled = new WeakMap<X509Certificate, Issuance>();
  return (input) => {
    const certificate = input instanceof X509Certificate ? input : new X509Certificate(input);
    const now = trust.clock.now();
    // RFC 5280 §4.1.2.5: within its validity period (checked on every call).
    if (!validAt(certificate, now)) return { problem: "certificate not valid now" };
    let issuance = settled.get(certificate);
    if (issuance === undefined) {
      issuance = checkIssuance(certificate, issuers, trust.trustDomain);
      settled.set(certificate, issuance);
    }
    // §6.1.3 (a): the CA that issued it must itself be valid now.
    if ("caller" in issuance.verdict && !issuance.issuers.some((ca) => validAt(ca, now))) {
      return { problem: "certificate not issued by the CA" };
    }
    return issuance.verdict;
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

/** The time-independent checks' outcome, and the trusted CAs that signed the certificate. */
interface Issuance {
  readonly verdict: CertificateVerdict;
  readonly issuers: readonly X509Certificate[];
}

/** The first time-independent check `certificate` fails, in RFC 5280's order, or its caller. */
function checkIssuance(
  certificate: X509Certificate,
  trusted: readonly X509Certificate[],
  trustDomain: string,
): Issuance {
  // §6.1.3 (a): issued by a trusted CA (issuer name and signature).
  const issuers = trusted.filter(
    (ca) => ca.ca && certificate.checkIssued(ca) && certificate.verify(ca.publicKey),
  );
  const refuse = (problem: string): Issuance => ({ verdict: { problem }, issuers });
  // §4.2.1.9: an end-entity certificate; a CA's own certificate authenticates no caller.
  if (certificate.ca) return refuse("certificate is a CA certificate");
  if (issuers.length === 0) return refuse("certificate not issued by the CA");
  // §4.2.1.12: usable for TLS client authentication (a serverAuth-only certificate is not).
  if (!certificate.keyUsage?.includes(CLIENT_AUTH)) {
    return refuse("certificate's extended key usage lacks clientAuth");
  }
  return { verdict: { caller: callerFromCertificate(certificate.raw, trustDomain) }, issuers };
}

function validAt(certificate: X509Certificate, now: number): boolean {
  const { from, to } = validityOf(certificate);
  return from <= now && now <= to;
}

/**
 * A certificate's validity period in ms, parsed once per certificate object: `validFrom` and
 * `validTo` are formatted anew by each read, and the check runs twice on every call.
 */
const validity = new WeakMap<X509Certificate, { readonly from: number; readonly to: number }>();

function validityOf(certificate: X509Certificate): { readonly from: number; readonly to: number } {
  let period = validity.get(certificate);
  if (period === undefined) {
    period = { from: Date.parse(certificate.validFrom), to: Date.parse(certificate.validTo) };
    validity.set(certificate, period);
  }
  return period;
}

function pemCertificates(bundle: Buffer): X509Certificate[] {
  const blocks = bundle
    .toString()
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return (blocks ?? []).map((pem) => new X509Certificate(pem));
}
