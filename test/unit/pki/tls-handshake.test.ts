import { checkServerIdentity } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateAuthority } from "../../../src/pki/certificate-authority.js";
import { fingerprintSha256 } from "../../../src/pki/fingerprint.js";
import { issueCertificate } from "../../../src/pki/issue-certificate.js";
import type { PemPair } from "../../../src/pki/pem-pair.js";
import { type RoleIdentity, roleCertificateSpec } from "../../../src/pki/role-certificate.js";
import { connectMtls, type MtlsServer, startMtlsServer } from "./mtls.js";

const TD = "gatehouse.test";
const AGENT_DID = "did:agent:example.com:0123456789abcdef0123456789abcdef";

function issueFor(ca: PemPair, identity: RoleIdentity): Promise<PemPair> {
  return issueCertificate({ ca, ...roleCertificateSpec(TD, identity), validityDays: 1 });
}

describe("certificates in a real node:tls mutual-TLS handshake", () => {
  let ca: PemPair;
  let server: MtlsServer;

  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: "Test CA", validityDays: 1 });
    const serverPair = await issueFor(ca, {
      role: "server",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1", "::1"],
    });
    server = await startMtlsServer(serverPair, ca.certPem);
  });

  afterAll(() => server.close());

  it.each([
    [{ role: "admin", name: "alice" }, `URI:spiffe://${TD}/admin/alice`],
    [{ role: "operator", domain: "example.com" }, `URI:spiffe://${TD}/operator/example.com`],
    [{ role: "verifier", name: "mesh" }, `URI:spiffe://${TD}/verifier/mesh`],
    [{ role: "agent", did: AGENT_DID }, `URI:${AGENT_DID}`],
  ] satisfies [RoleIdentity, string][])(
    "accepts a %o client and sees %s",
    async (identity, san) => {
      const client = await issueFor(ca, identity);
      const before = server.accepted.length;

      const outcome = await connectMtls(server.port, ca.certPem, client);

      expect(outcome.error).toBeUndefined();
      expect(outcome.reply).toBe("ok");
      const peer = server.accepted[before];
      expect(peer?.subjectaltname?.split(", ")).toContain(san);
      expect(peer?.fingerprint256.replaceAll(":", "").toLowerCase()).toBe(
        fingerprintSha256(client.certPem),
      );
      expect(fingerprintSha256(peer?.raw ?? new Uint8Array())).toBe(
        fingerprintSha256(client.certPem),
      );
    },
  );

  it("serves a certificate valid for localhost, 127.0.0.1 and ::1", async () => {
    const client = await issueFor(ca, { role: "admin", name: "alice" });
    const { serverCert } = await connectMtls(server.port, ca.certPem, client);

    expect(serverCert).toBeDefined();
    if (!serverCert) return;
    for (const host of ["localhost", "127.0.0.1", "::1"]) {
      expect(checkServerIdentity(host, serverCert)).toBeUndefined();
    }
    expect(checkServerIdentity("example.com", serverCert)).toBeInstanceOf(Error);
  });

  it("refuses a client certificate from another CA", async () => {
    const otherCa = await createCertificateAuthority({ commonName: "Other CA", validityDays: 1 });
    const intruder = await issueFor(otherCa, { role: "admin", name: "alice" });
    const accepted = server.accepted.length;
    const refused = server.refused.length;

    const outcome = await connectMtls(server.port, ca.certPem, intruder);

    expect(outcome.reply).toBe("");
    expect(server.accepted).toHaveLength(accepted);
    expect(server.refused.length).toBe(refused + 1);
  });
});
