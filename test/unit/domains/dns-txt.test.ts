import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { createDomainVerifier } from "../../../src/domains/index.js";
import { GatehouseError } from "../../../src/errors/index.js";
import { startSilentDns, startTestDns, type TestDns } from "../../support/domain-servers.js";

const TOKEN = "tok-0123456789abcdef";
const PROOF = `gatehouse-verification=${TOKEN}`;

async function failure(promise: Promise<unknown>): Promise<GatehouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatehouseError);
  expect((error as GatehouseError).reason).toBe(Reason.DOMAIN_VERIFICATION_FAILED);
  return error as GatehouseError;
}

describe("DNS TXT proof against a real DNS server on loopback", () => {
  let dns: TestDns;
  const verifier = () => createDomainVerifier({ dnsServers: [dns.address], timeoutMs: 2_000 });

  beforeAll(async () => {
    dns = await startTestDns();
    dns.set("_gatehouse-challenge.good.test", { txt: ["v=spf1 -all", PROOF] });
    dns.set("_gatehouse-challenge.split.test", { txt: [["gatehouse-verification=", TOKEN]] });
    dns.set("_gatehouse-challenge.wrong.test", { txt: ["gatehouse-verification=someone-else"] });
    dns.set("_gatehouse-challenge.prefix.test", { txt: [`${PROOF}x`, ` ${PROOF}`] });
    dns.set("_gatehouse-challenge.empty.test", { a: ["192.0.2.1"] });
    dns.set("_auth4agents.legacy.test", { txt: [PROOF] });
    dns.set("_auth4agents.legacy-wrong.test", { txt: ["gatehouse-verification=someone-else"] });
  });
  afterAll(async () => {
    await dns?.close();
  });

  it("accepts the exact record among others", async () => {
    await expect(verifier().check("good.test", "dns_txt", TOKEN)).resolves.toBeUndefined();
  });

  it("accepts the same record under _auth4agents.<domain>, the Auth4Agent-style name", async () => {
    await expect(verifier().check("legacy.test", "dns_txt", TOKEN)).resolves.toBeUndefined();
    const wrong = await failure(verifier().check("legacy-wrong.test", "dns_txt", TOKEN));
    expect(wrong.description).toBe("no TXT record at _gatehouse-challenge.legacy-wrong.test");
  });

  it("joins a record's character-strings before comparing", async () => {
    await expect(verifier().check("split.test", "dns_txt", TOKEN)).resolves.toBeUndefined();
  });

  it("refuses a missing name (NXDOMAIN) and a name without TXT records", async () => {
    const missing = await failure(verifier().check("missing.test", "dns_txt", TOKEN));
    expect(missing.description).toBe("no TXT record at _gatehouse-challenge.missing.test");
    await failure(verifier().check("empty.test", "dns_txt", TOKEN));
  });

  it("refuses another token, and near misses, without echoing what it found", async () => {
    for (const domain of ["wrong.test", "prefix.test"]) {
      const error = await failure(verifier().check(domain, "dns_txt", TOKEN));
      expect(error.description).toBe(
        `no TXT record at _gatehouse-challenge.${domain} holds the verification token`,
      );
      expect(error.message).not.toContain("someone-else");
    }
  });

  it("refuses names that are not DNS names, and an empty token", async () => {
    await failure(verifier().check("127.0.0.1", "dns_txt", TOKEN));
    await failure(verifier().check("good.test/x", "dns_txt", TOKEN));
    await failure(verifier().check("good.test", "dns_txt", ""));
  });

  it("fails within the timeout when the server never answers", async () => {
    const silent = await startSilentDns();
    try {
      const timed = createDomainVerifier({ dnsServers: [silent.address], timeoutMs: 400 });
      const started = performance.now();
      const error = await failure(timed.check("good.test", "dns_txt", TOKEN));
      expect(error.description).toBe("DNS lookup timed out");
      expect(performance.now() - started).toBeLessThan(1_500);
    } finally {
      await silent.close();
    }
  });

  it("says where to publish the proofs", () => {
    expect(createDomainVerifier().locations("example.com")).toEqual({
      dnsRecordName: "_gatehouse-challenge.example.com",
      httpsUrl: "https://example.com/.well-known/gatehouse-verification",
    });
    expect(createDomainVerifier({ httpsPort: 8443 }).locations("example.com").httpsUrl).toBe(
      "https://example.com:8443/.well-known/gatehouse-verification",
    );
  });
});
