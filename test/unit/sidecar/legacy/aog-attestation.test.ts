import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority } from "../../../../src/pki/certificate-authority.js";
import { issueCertificate } from "../../../../src/pki/issue-certificate.js";
import { roleCertificateSpec } from "../../../../src/pki/role-certificate.js";
import { verifyAogAttestation } from "../../../../src/sidecar/legacy/aog/attestation.js";
import { checkUnsignedAutonomy } from "../../../../src/sidecar/legacy/aog/autonomy.js";
import { LegacyRefusal } from "../../../../src/sidecar/legacy/refusal.js";

const DID = "did:agent:example.com:0123456789abcdef0123456789abcdef";
const NOW = 1_800_000_000;

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function agentCertificate() {
  const ca = await createCertificateAuthority({ commonName: "test", validityDays: 1 });
  const spec = roleCertificateSpec("gatehouse.local", { role: "agent", did: DID });
  return issueCertificate({ ca, ...spec, validityDays: 1 });
}

function es256(keyPem: string, header: unknown, claims: unknown): string {
  const input = `${segment(header)}.${segment(claims)}`;
  const signature = sign("sha256", Buffer.from(input), { key: keyPem, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

describe("AOG attestation JWT (verified with the client certificate's key)", async () => {
  const pair = await agentCertificate();
  const context = {
    certificatePem: pair.certPem,
    did: DID,
    now: NOW,
    maxAgeSeconds: 300,
    skewSeconds: 30,
  };
  const header = { alg: "ES256", typ: "JWT" };

  it("accepts ES256 by the certificate's key with sub = the DID and a recent iat", () => {
    expect(verifyAogAttestation(es256(pair.keyPem, header, { sub: DID, iat: NOW }), context)).toBe(
      true,
    );
  });

  it("refuses each broken claim or signature alone", () => {
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      format: "pem",
      type: "pkcs8",
    }) as string;
    const cases = [
      es256(other, header, { sub: DID, iat: NOW }),
      es256(pair.keyPem, { alg: "RS256" }, { sub: DID, iat: NOW }),
      es256(pair.keyPem, { alg: "none" }, { sub: DID, iat: NOW }),
      es256(pair.keyPem, header, { sub: "someone", iat: NOW }),
      es256(pair.keyPem, header, { iat: NOW }),
      es256(pair.keyPem, header, { sub: DID }),
      es256(pair.keyPem, header, { sub: DID, iat: "now" }),
      es256(pair.keyPem, header, { sub: DID, iat: NOW - 331 }),
      es256(pair.keyPem, header, { sub: DID, iat: NOW + 31 }),
      "a.b",
      "",
    ];
    for (const token of cases) expect(verifyAogAttestation(token, context)).toBe(false);
  });
});

describe("AOG unsigned autonomy_attestation", () => {
  const plausible = { operation_time: 2, autonomous_actions: ["a"], decision_chain: ["d"] };

  it("is refused by default, with a message saying why", () => {
    expect(() => checkUnsignedAutonomy(plausible, false)).toThrow(LegacyRefusal);
    expect(() => checkUnsignedAutonomy(plausible, false)).toThrow(/unsigned autonomy_attestation/);
    expect(() => checkUnsignedAutonomy(undefined, false)).not.toThrow();
  });

  it("is shape-checked when the deployment opts in", () => {
    expect(() => checkUnsignedAutonomy(plausible, true)).not.toThrow();
    for (const bad of [
      { ...plausible, operation_time: 0.5 },
      { ...plausible, decision_chain: [] },
      [],
      "x",
    ]) {
      expect(() => checkUnsignedAutonomy(bad, true)).toThrow(/validation failed/);
    }
  });
});
