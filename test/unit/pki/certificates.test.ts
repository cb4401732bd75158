import { createPrivateKey, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../../../src/clock.js";
import { createCertificateAuthority } from "../../../src/pki/certificate-authority.js";
import { fingerprintSha256 } from "../../../src/pki/fingerprint.js";
import { issueCertificate } from "../../../src/pki/issue-certificate.js";
import type { PemPair } from "../../../src/pki/pem-pair.js";
import { adminUri, operatorUri, verifierUri } from "../../../src/pki/role-uris.js";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate as ParsedCertificate,
  SubjectKeyIdentifierExtension,
} from "../../../src/pki/x509.js";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const DAY_MS = 86_400_000;

describe("createCertificateAuthority", () => {
  it("creates a self-signed CA valid from the clock's time", async () => {
    const clock = createManualClock(Date.UTC(2030, 0, 1));
    const ca = await createCertificateAuthority({ commonName: "Test CA", validityDays: 10, clock });
    const cert = new X509Certificate(ca.certPem);

    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe("CN=Test CA");
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBe(clock.now() + 10 * DAY_MS);
    expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(clock.now());
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("marks the CA critical, signing certificates and CRLs only, leaves only", async () => {
    const ca = await createCertificateAuthority({ commonName: "Test CA", validityDays: 1 });
    const parsed = new ParsedCertificate(ca.certPem);
    const constraints = parsed.getExtension(BasicConstraintsExtension);
    const keyUsage = parsed.getExtension(KeyUsagesExtension);

    expect(constraints).toMatchObject({ ca: true, pathLength: 0, critical: true });
    expect(keyUsage).toMatchObject({
      usages: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
      critical: true,
    });
    expect(parsed.getExtension(SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe("issueCertificate", () => {
  let ca: PemPair;

  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: "Test CA", validityDays: 1 });
  });

  it("issues a P-256 leaf with a positive random serial, signed by the CA", async () => {
    const leaf = await issueCertificate({ ca, commonName: "a", usage: "client", validityDays: 1 });
    const cert = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(ca.certPem);

    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(leaf.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    // Node drops leading zero bytes; at most 16 bytes, and the high bit is clear.
    expect(cert.serialNumber.length).toBeLessThanOrEqual(32);
    expect(Number.parseInt(cert.serialNumber.padStart(32, "0").charAt(0), 16)).toBeLessThan(8);
  });

  it("marks the leaf as no CA, for signatures only, naming the CA's key", async () => {
    const leaf = await issueCertificate({ ca, commonName: "a", usage: "client", validityDays: 1 });
    const parsed = new ParsedCertificate(leaf.certPem);
    const caKeyId = new ParsedCertificate(ca.certPem).getExtension(SubjectKeyIdentifierExtension);

    expect(parsed.getExtension(BasicConstraintsExtension)).toMatchObject({ ca: false });
    expect(parsed.getExtension(KeyUsagesExtension)?.usages).toBe(KeyUsageFlags.digitalSignature);
    expect(parsed.getExtension(AuthorityKeyIdentifierExtension)?.keyId).toBe(caKeyId?.keyId);
  });

  it("gives each certificate a different serial", async () => {
    const issue = () => issueCertificate({ ca, commonName: "a", usage: "client", validityDays: 1 });
    const [a, b] = await Promise.all([issue(), issue()]);

    expect(new X509Certificate(a.certPem).serialNumber).not.toBe(
      new X509Certificate(b.certPem).serialNumber,
    );
  });

  it.each([
    ["server", SERVER_AUTH],
    ["client", CLIENT_AUTH],
  ] as const)("limits a %s certificate to its extended key usage", async (usage, oid) => {
    const leaf = await issueCertificate({ ca, commonName: "a", usage, validityDays: 1 });

    expect(new X509Certificate(leaf.certPem).keyUsage).toEqual([oid]);
  });

  it("puts URIs, DNS names and IP addresses into the subject alternative names", async () => {
    const leaf = await issueCertificate({
      ca,
      commonName: "a",
      usage: "server",
      uris: ["spiffe://td/admin/a"],
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1", "::1"],
      validityDays: 1,
    });

    expect(new X509Certificate(leaf.certPem).subjectAltName?.split(", ")).toEqual([
      "DNS:localhost",
      "IP Address:127.0.0.1",
      "IP Address:0:0:0:0:0:0:0:1",
      "URI:spiffe://td/admin/a",
    ]);
  });

  it("omits the subject alternative name extension when there are no names", async () => {
    const leaf = await issueCertificate({ ca, commonName: "a", usage: "client", validityDays: 1 });

    expect(new X509Certificate(leaf.certPem).subjectAltName).toBeUndefined();
  });

  it("refuses a malformed IP address", async () => {
    await expect(
      issueCertificate({
        ca,
        commonName: "a",
        usage: "server",
        ipAddresses: ["1.2.3"],
        validityDays: 1,
      }),
    ).rejects.toThrow("not an IP address: 1.2.3");
  });

  it("refuses a non-positive validity", async () => {
    await expect(
      issueCertificate({ ca, commonName: "a", usage: "client", validityDays: 0 }),
    ).rejects.toThrow(RangeError);
  });
});

describe("fingerprintSha256", () => {
  it("hashes the DER, whether given PEM or DER", async () => {
    const ca = await createCertificateAuthority({ commonName: "Test CA", validityDays: 1 });
    const cert = new X509Certificate(ca.certPem);
    const expected = cert.fingerprint256.replaceAll(":", "").toLowerCase();

    expect(fingerprintSha256(ca.certPem)).toBe(expected);
    expect(fingerprintSha256(cert.raw)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("role URIs", () => {
  it("builds SPIFFE IDs under the trust domain", () => {
    expect(adminUri("gatehouse.local", "alice")).toBe("spiffe://gatehouse.local/admin/alice");
    expect(operatorUri("gatehouse.local", "example.com")).toBe(
      "spiffe://gatehouse.local/operator/example.com",
    );
    expect(verifierUri("gatehouse.local", "mesh")).toBe("spiffe://gatehouse.local/verifier/mesh");
  });
});
