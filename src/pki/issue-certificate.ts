import { webcrypto } from "node:crypto";
import { isIP } from "node:net";
import { type Clock, systemClock } from "../clock.js";
import { exportPrivateKeyPem, generateP256KeyPair, importP256SigningKey } from "./keys.js";
import type { PemPair } from "./pem-pair.js";
import { randomSerialHex } from "./serial.js";
import { validityWindow } from "./validity.js";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type JsonGeneralName,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from "./x509.js";

/** Which side of a TLS connection the certificate authenticates. */
export type CertificateUsage = "server" | "client";

export interface IssueCertificateOptions {
  /** The issuing CA, e.g. from `createCertificateAuthority`. */
  readonly ca: PemPair;
  readonly commonName: string;
  readonly usage: CertificateUsage;
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly validityDays: number;
  readonly clock?: Clock;
}

/**
 * Issues an ECDSA P-256 leaf certificate signed by `ca`. The extended key
 * usage is exactly one of serverAuth or clientAuth, so a client certificate
 * can never be served as a server identity and vice versa.
 */
export async function issueCertificate(options: IssueCertificateOptions): Promise<PemPair> {
  const caCert = new X509Certificate(options.ca.certPem);
  const altNames = subjectAltNames(options);
  const [caKey, keys] = await Promise.all([
    importP256SigningKey(options.ca.keyPem),
    generateP256KeyPair(),
  ]);
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: [{ CN: [options.commonName] }],
      // The issuer's encoded name, byte for byte, so chain building matches it.
      issuer: caCert.subjectName,
      ...validityWindow(options.clock ?? systemClock, options.validityDays),
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([
          options.usage === "server" ? ExtendedKeyUsage.serverAuth : ExtendedKeyUsage.clientAuth,
        ]),
        await authorityKeyIdentifier(caCert),
        // GeneralNames must not be empty (RFC 5280), so no names means no extension.
        ...(altNames.length > 0 ? [new SubjectAlternativeNameExtension(altNames)] : []),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString("pem"), keyPem: exportPrivateKeyPem(keys.privateKey) };
}

function subjectAltNames(options: IssueCertificateOptions): JsonGeneralName[] {
  for (const ip of options.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`not an IP address: ${ip}`);
  }
  return [
    ...(options.dnsNames ?? []).map((value): JsonGeneralName => ({ type: "dns", value })),
    ...(options.ipAddresses ?? []).map((value): JsonGeneralName => ({ type: "ip", value })),
    // "url" is the library's name for a uniformResourceIdentifier (URI SAN).
    ...(options.uris ?? []).map((value): JsonGeneralName => ({ type: "url", value })),
  ];
}

/**
 * Reuses the CA's own subject key identifier when it has one (ours always
 * does), so the two match even for a CA that derived its identifier differently.
 */
async function authorityKeyIdentifier(
  caCert: X509Certificate,
): Promise<AuthorityKeyIdentifierExtension> {
  const ski = caCert.getExtension(SubjectKeyIdentifierExtension);
  return ski
    ? new AuthorityKeyIdentifierExtension(ski.keyId)
    : AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, webcrypto);
}
