import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { createDomainVerifier, type DomainVerifierOptions } from "../../../src/domains/index.js";
import { GatehouseError } from "../../../src/errors/index.js";
import {
  startTestDns,
  startWellKnownServer,
  type TestDns,
  type WellKnownServer,
} from "../../support/domain-servers.js";

const TOKEN = "tok-0123456789abcdef";
const HOSTS = [
  "good.test",
  "wrong.test",
  "missing.test",
  "redirect.test",
  "big.test",
  "chunked.test",
  "slow.test",
];

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatehouseError);
  expect((error as GatehouseError).reason).toBe(Reason.DOMAIN_VERIFICATION_FAILED);
  return (error as GatehouseError).description;
}

describe("HTTPS well-known proof against a real HTTPS server on loopback", () => {
  let dns: TestDns;
  let https: WellKnownServer;
  const verifier = (options: DomainVerifierOptions = {}) =>
    createDomainVerifier({
      dnsServers: [dns.address],
      httpsPort: https.port,
      allowPrivateAddresses: true,
      ca: [https.caPem],
      timeoutMs: 2_000,
      ...options,
    });
  const check = (domain: string, options?: DomainVerifierOptions) =>
    verifier(options).check(domain, "https_well_known", TOKEN);

  beforeAll(async () => {
    [dns, https] = await Promise.all([startTestDns(), startWellKnownServer([...HOSTS])]);
    for (const host of [...HOSTS, "unnamed.test"]) dns.set(host, { a: ["127.0.0.1"] });
    dns.set("ten.test", { a: ["10.0.0.1"] });
    dns.set("mixed.test", { a: ["93.184.216.34"], aaaa: ["::1"] });
    dns.set("noaddress.test", { txt: ["nothing"] });
    https.answer("good.test", { body: `${TOKEN}\n` });
    https.answer("wrong.test", { body: "someone-else" });
    https.answer("redirect.test", { redirect: "https://elsewhere.test/" });
    https.answer("big.test", { body: `${TOKEN}${" ".repeat(5_000)}` });
    https.answer("chunked.test", { body: `${TOKEN}${" ".repeat(5_000)}`, chunked: true });
    https.answer("slow.test", { body: TOKEN, delayMs: 5_000 });
  });
  afterAll(async () => {
    await Promise.all([dns?.close(), https?.close()]);
  });

  it("accepts the token as the file's content (whitespace around it ignored)", async () => {
    await expect(check("good.test")).resolves.toBeUndefined();
  });

  it("refuses another content without echoing it", async () => {
    const description = await failure(check("wrong.test"));
    expect(description).toBe("the well-known file does not hold the verification token");
  });

  it("refuses any status but 200", async () => {
    expect(await failure(check("missing.test"))).toBe("the well-known URL answered HTTP 404");
  });

  it("refuses a redirect to another host instead of following it", async () => {
    expect(await failure(check("redirect.test"))).toContain("redirects are not followed");
  });

  it("refuses a body over the size cap, declared or not", async () => {
    for (const domain of ["big.test", "chunked.test"]) {
      expect(await failure(check(domain))).toBe("the well-known file is larger than 4096 bytes");
    }
  });

  it("gives up on a slow server at the timeout", async () => {
    const started = performance.now();
    const description = await failure(check("slow.test", { timeoutMs: 500 }));
    expect(description).toBe("the well-known file did not arrive in time");
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("refuses private and loopback addresses before connecting", async () => {
    const before = https.connections;
    for (const domain of ["good.test", "ten.test", "mixed.test"]) {
      const description = await failure(check(domain, { allowPrivateAddresses: false }));
      expect(description, domain).toBe("the domain resolves to a non-public address");
    }
    expect(https.connections).toBe(before);
  });

  it("checks the certificate against the domain, not the address", async () => {
    expect(await failure(check("unnamed.test"))).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(await failure(check("good.test", { ca: [] }))).toContain("could not fetch");
  });

  it("refuses a domain without addresses", async () => {
    expect(await failure(check("noaddress.test"))).toBe("the domain has no A or AAAA record");
    expect(await failure(check("nxdomain.test"))).toBe("the domain has no A or AAAA record");
  });
});
