import { createHash, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../../../src/clock.js";
import {
  type ClientCertificateCheck,
  createClientCertificateCheck,
  peerCertificateCaller,
} from "../../../src/identity/client-certificate.js";
import { createCertificateAuthority } from "../../../src/pki/certificate-authority.js";
import { issueCertificate } from "../../../src/pki/issue-certificate.js";
import type { PemPair } from "../../../src/pki/pem-pair.js";

const TD = "gatehouse.test";
const DID = "did:agent:example.com:0123";
const NOW = 1_900_000_000_000;
const DAY = 86_400_000;

describe("createClientCertificateCheck (direct and forwarded certificates alike)", () => {
  const clock = createManualClock(NOW);
  let ca: PemPair;
  let check: ClientCertificateCheck;
  const issue = (options: { usage?: "client" | "server"; uris?: string[]; by?: PemPair } = {}) =>
    issueCertificate({
      ca: options.by ?? ca,
      commonName: "agent",
      usage: options.usage ?? "client",
      uris: options.uris ?? [DID],
      validityDays: 1,
      clock,
    });
  const verdictOf = (pair: PemPair) => check(new X509Certificate(pair.certPem));
  const problemOf = (pair: PemPair) => {
    const verdict = verdictOf(pair);
    return "problem" in verdict ? verdict.problem : undefined;
  };

  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: "test CA", validityDays: 30, clock });
    check = createClientCertificateCheck({ trustDomain: TD, ca: Buffer.from(ca.certPem), clock });
  });

  it("accepts a client certificate of the CA, and reads its caller from the URI SAN", async () => {
    const pair = await issue();
    const verdict = check(new X509Certificate(pair.certPem).raw);
    expect(verdict).toMatchObject({ caller: { role: "agent", did: DID } });
  });

  it("refuses a serverAuth-only certificate (RFC 5280 §4.2.1.12)", async () => {
    expect(problemOf(await issue({ usage: "server" }))).toMatch(/lacks clientAuth/);
  });

  it("refuses a certificate outside its validity period (§4.1.2.5)", async () => {
    const pair = await issue();
    for (const at of [NOW + 2 * DAY, NOW - 10 * 60_000]) {
      clock.set(at);
      try {
        expect(problemOf(pair)).toMatch(/not valid now/);
      } finally {
        clock.set(NOW);
      }
    }
  });

  it("checks the validity period on every call of the same parsed certificate", async () => {
    // The period is parsed once per certificate object; the clock is read on every call.
    const certificate = new X509Certificate((await issue()).certPem);
    expect(check(certificate)).toHaveProperty("caller");
    clock.set(NOW + 2 * DAY);
    try {
      expect(check(certificate)).toEqual({ problem: "certificate not valid now" });
    } finally {
      clock.set(NOW);
    }
    expect(check(certificate)).toHaveProperty("caller");
  });

  it("refuses a certificate of another CA (§6.1.3)", async () => {
    const foreign = await createCertificateAuthority({ commonName: "test CA", validityDays: 30 });
    expect(problemOf(await issue({ by: foreign }))).toMatch(/not issued by the CA/);
  });

  it("refuses a certificate issued by a trusted end-entity certificate (§4.2.1.9)", async () => {
    const leaf = await issue();
    const bundle = Buffer.from(`${ca.certPem}${leaf.certPem}`);
    const withLeaf = createClientCertificateCheck({ trustDomain: TD, ca: bundle, clock });
    const child = await issue({ by: leaf });
    const verdict = withLeaf(new X509Certificate(child.certPem));
    expect("problem" in verdict && verdict.problem).toMatch(/not issued by the CA/);
  });

  it("refuses the CA's own certificate as a client certificate", () => {
    expect(problemOf(ca)).toMatch(/CA certificate/);
  });

  it("gives no role to a certificate whose SANs name none, or two", async () => {
    expect(verdictOf(await issue({ uris: ["https://example.com/x"] }))).toMatchObject({
      caller: { uris: ["https://example.com/x"] },
    });
    const two = verdictOf(await issue({ uris: [DID, `spiffe://${TD}/admin/root`] }));
    expect("caller" in two && two.caller.role).toBeUndefined();
  });

  it("peerCertificateCaller keeps a refused peer apart by fingerprint, with no role", async () => {
    const der = new X509Certificate((await issue({ usage: "server" })).certPem).raw;
    const caller = peerCertificateCaller(check, der);
    expect(caller).toEqual({
      fingerprint: createHash("sha256").update(der).digest("hex"),
      uris: [],
    });
  });
});
