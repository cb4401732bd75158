import { createHash, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { createManualClock } from "../../../src/clock.js";
import { ConfigError, describeConfig, loadConfig } from "../../../src/config/index.js";
import { constantTimeEqual } from "../../../src/crypto/constant-time.js";
import { GatehouseError } from "../../../src/errors/index.js";
import type { Caller } from "../../../src/identity/caller.js";
import {
  type CallerResolver,
  type CallSources,
  canonicalString,
  createCallerResolver,
  FORWARDED_HEADERS,
  type ForwardedFields,
  forwardedMac,
  forwardedMacMatches,
} from "../../../src/identity/forwarded.js";
import { createCertificateAuthority } from "../../../src/pki/certificate-authority.js";
import { issueCertificate } from "../../../src/pki/issue-certificate.js";
import type { PemPair } from "../../../src/pki/pem-pair.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const FINGERPRINT = "a".repeat(64);
const TD = "gatehouse.test";
const CHALLENGE = "/gatehouse.v1.GateService/Challenge";
const NOW_S = 1_900_000_000;

const fields: ForwardedFields = {
  kind: "fingerprint",
  value: FINGERPRINT,
  at: "1700000000",
  authority: "gatehouse.internal:7443",
  target: CHALLENGE,
};

describe("the canonical string and its MAC", () => {
  it("joins version, kind, value, timestamp, authority and target with LF", () => {
    expect(canonicalString(fields)).toBe(
      `gatehouse-forwarded-v1\nfingerprint\n${FINGERPRINT}\n1700000000\n` +
        `gatehouse.internal:7443\n${CHALLENGE}`,
    );
  });

  it("MACs with HMAC-SHA256 as unpadded base64url (vector computed with openssl)", () => {
    // printf '<canonical string>' | openssl dgst -sha256 -hmac "$SECRET" -binary | base64url
    expect(forwardedMac(SECRET, fields)).toBe("wJa0SY50OeFKJ6ldChg3XdZN4QX-zlwqa6S2UbBwyPE");
  });

  it("changes with every field, including the kind", () => {
    const mac = forwardedMac(SECRET, fields);
    const variants: ForwardedFields[] = [
      { ...fields, kind: "cert" },
      { ...fields, value: "b".repeat(64) },
      { ...fields, at: "1700000001" },
      { ...fields, authority: "gatehouse.internal:7444" },
      { ...fields, target: "/gatehouse.v1.GateService/Submit" },
    ];
    for (const variant of variants) expect(forwardedMac(SECRET, variant)).not.toBe(mac);
  });

  it("compares MACs whole: wrong, truncated, padded and empty MACs do not match", () => {
    const mac = forwardedMac(SECRET, fields);
    expect(forwardedMacMatches(SECRET, fields, mac)).toBe(true);
    const flipped = `${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`;
    for (const wrong of [flipped, mac.slice(0, -1), `${mac}=`, ""]) {
      expect(forwardedMacMatches(SECRET, fields, wrong)).toBe(false);
    }
    expect(forwardedMacMatches(`${SECRET}x`, fields, mac)).toBe(false);
  });

  it("binds the client address in the v2 format, and keeps the formats apart", () => {
    const withAddress = { ...fields, address: "198.51.100.7" };
    expect(canonicalString(withAddress)).toBe(
      `gatehouse-forwarded-v2\nfingerprint\n${FINGERPRINT}\n198.51.100.7\n1700000000\n` +
        `gatehouse.internal:7443\n${CHALLENGE}`,
    );
    const mac = forwardedMac(SECRET, withAddress);
    expect(mac).not.toBe(forwardedMac(SECRET, fields));
    expect(forwardedMac(SECRET, { ...withAddress, address: "198.51.100.8" })).not.toBe(mac);
    // An address cannot pose as another field: the v1 string of a shifted value differs.
    const shifted = { ...fields, value: `${FINGERPRINT}\n198.51.100.7` };
    expect(canonicalString(shifted)).not.toBe(canonicalString(withAddress));
  });

  it("constantTimeEqual answers false on a length difference instead of throwing", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
  });
});

describe("createCallerResolver", () => {
  let ca: PemPair;
  let agentCertPem: string;
  let proxyCaller: Caller;
  const clock = createManualClock(NOW_S * 1000);
  const proxy = {
    enabled: true,
    trustedPeers: ["10.1.0.0/16", "192.0.2.7"],
    hmacSecret: SECRET,
    maxAgeSeconds: 30,
  } as const;
  let resolve: CallerResolver;

  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: "test CA", validityDays: 1, clock });
    const agent = await issueCertificate({
      ca,
      commonName: "agent",
      usage: "client",
      uris: ["did:agent:example.com:0123"],
      validityDays: 1,
      clock,
    });
    agentCertPem = agent.certPem;
    proxyCaller = {
      fingerprint: "f".repeat(64),
      uris: [`spiffe://${TD}/proxy/edge`],
    };
    resolve = createCallerResolver(proxy, {
      trustDomain: TD,
      ca: Buffer.from(ca.certPem),
      clock,
    });
  });

  interface Variation extends Partial<Pick<CallSources, "peerAddress" | "peerCaller">> {
    /** `x-gatehouse-forwarded-at`; default: the clock's current second. */
    readonly at?: string;
    /** `x-gatehouse-client-address` (the v2 format); default: none (v1). */
    readonly address?: string;
    /** What the MAC covers instead of the request's own fields. */
    readonly signed?: Partial<ForwardedFields>;
  }

  /** A call from the proxy at 10.1.2.3 forwarding `value` to Challenge, MACed. */
  function forwarded(kind: ForwardedFields["kind"], value: string, v: Variation = {}): CallSources {
    const { at = String(Math.floor(clock.now() / 1000)), address, signed, ...peer } = v;
    const base = { authority: "gh:7443", target: CHALLENGE };
    const client = address === undefined ? {} : { address };
    const mac = forwardedMac(SECRET, { kind, value, ...client, at, ...base, ...signed });
    const headers: Record<string, string[]> = {
      [FORWARDED_HEADERS[kind]]: [value],
      ...(address === undefined ? {} : { [FORWARDED_HEADERS.address]: [address] }),
      [FORWARDED_HEADERS.at]: [at],
      [FORWARDED_HEADERS.mac]: [mac],
    };
    return {
      peerCaller: proxyCaller,
      peerAddress: "10.1.2.3",
      ...base,
      header: (name) => headers[name] ?? [],
      ...peer,
    };
  }

  const certValue = () => encodeURIComponent(agentCertPem);

  function refusal(call: CallSources): GatehouseError {
    try {
      resolve(call);
    } catch (error) {
      if (error instanceof GatehouseError) return error;
      throw error;
    }
    throw new Error("expected a refusal");
  }

  it("accepts a forwarded certificate: the caller is built from it, as over mTLS", () => {
    const caller = resolve(forwarded("cert", certValue()));
    const der = new X509Certificate(agentCertPem).raw;
    expect(caller.role).toBe("agent");
    expect(caller.did).toBe("did:agent:example.com:0123");
    expect(caller.fingerprint).toBe(createHash("sha256").update(der).digest("hex"));
  });

  it("accepts a fingerprint-only forward, with no role", () => {
    const caller = resolve(forwarded("fingerprint", FINGERPRINT));
    expect(caller).toEqual({ fingerprint: FINGERPRINT, uris: [] });
    expect(caller.role).toBeUndefined();
  });

  it("gives a forward with the client's address a caller carrying it (v2)", () => {
    const address = "198.51.100.7";
    const caller = resolve(forwarded("fingerprint", FINGERPRINT, { address }));
    expect(caller).toEqual({ fingerprint: FINGERPRINT, uris: [], address });
    const v6 = "2001:db8::1";
    expect(resolve(forwarded("cert", certValue(), { address: v6 })).address).toBe(v6);
    expect(resolve(forwarded("cert", certValue())).address).toBeUndefined();
  });

  it("requires a DID claim to carry the client address, an IP address", () => {
    const did = "did:agent:example.com:0123456789abcdef0123456789abcdef";
    const claimant = resolve(forwarded("did", did, { address: "198.51.100.7" }));
    expect(claimant).toMatchObject({ role: "claimant", did, address: "198.51.100.7" });
    expect(refusal(forwarded("did", did)).message).toMatch(/must carry the client address/);
    for (const address of ["host.example", "198.51.100.7:443", "", "198.51.100.256"]) {
      expect(refusal(forwarded("did", did, { address })).message).toMatch(/malformed client/);
    }
  });

  it("refuses an address changed, added, dropped or repeated under the MAC", () => {
    const good = forwarded("fingerprint", FINGERPRINT, { address: "198.51.100.7" });
    const withHeader = (name: string, values: string[]) => ({
      ...good,
      header: (n: string) => (n === name ? values : good.header(n)),
    });
    const calls = [
      withHeader(FORWARDED_HEADERS.address, ["198.51.100.8"]),
      withHeader(FORWARDED_HEADERS.address, []),
      withHeader(FORWARDED_HEADERS.address, ["198.51.100.7", "198.51.100.7"]),
      forwarded("fingerprint", FINGERPRINT, {
        address: "198.51.100.7",
        signed: { address: "198.51.100.8" },
      }),
      forwarded("fingerprint", FINGERPRINT, { signed: { address: "198.51.100.7" } }),
    ];
    for (const call of calls) {
      expect(refusal(call).reason).toBe(Reason.FORWARDED_IDENTITY_INVALID);
    }
  });

  it("trusts single addresses, CIDR blocks and IPv4-mapped IPv6 addresses", () => {
    for (const peerAddress of ["192.0.2.7", "10.1.255.255", "::ffff:10.1.0.1"]) {
      expect(resolve(forwarded("fingerprint", FINGERPRINT, { peerAddress })).fingerprint).toBe(
        FINGERPRINT,
      );
    }
  });

  it("ignores the headers of an untrusted address or a peer without the proxy URI", () => {
    const agentCaller: Caller = { fingerprint: "e".repeat(64), uris: ["did:agent:x:1"] };
    const twoUris: Caller = { ...proxyCaller, uris: [...proxyCaller.uris, "did:agent:x:1"] };
    const otherDomain: Caller = { ...proxyCaller, uris: ["spiffe://other.test/proxy/edge"] };
    const untrusted: Variation[] = [
      { peerAddress: "10.2.0.1" },
      { peerAddress: "192.0.2.8" },
      { peerAddress: "" },
      { peerCaller: agentCaller },
      { peerCaller: twoUris },
      { peerCaller: otherDomain },
    ];
    for (const overrides of untrusted) {
      const call = forwarded("cert", certValue(), overrides);
      expect(resolve(call)).toBe(call.peerCaller);
    }
  });

  it("lets a trusted proxy that forwards nothing stand for itself", () => {
    const call = { ...forwarded("cert", certValue()), header: () => [] };
    expect(resolve(call)).toBe(proxyCaller);
  });

  it("accepts timestamps up to maxAgeSeconds either way, and refuses beyond", () => {
    const call = (age: number) =>
      forwarded("fingerprint", FINGERPRINT, { at: String(NOW_S - age) });
    expect(resolve(call(30)).fingerprint).toBe(FINGERPRINT); // forwarded 30 s ago
    expect(resolve(call(-30)).fingerprint).toBe(FINGERPRINT); // the proxy's clock is 30 s ahead
    for (const age of [31, -31, NOW_S]) {
      expect(refusal(call(age)).message).toMatch(/timestamp/);
    }
    for (const at of ["+1900000000", "1900000000.0", "1.9e9", ""]) {
      expect(refusal(forwarded("fingerprint", FINGERPRINT, { at })).message).toMatch(/timestamp/);
    }
  });

  it("refuses a MAC for another target, authority, value or secret", () => {
    const cases: Partial<ForwardedFields>[] = [
      { target: "/gatehouse.v1.GateService/Submit" },
      { authority: "gh:7444" },
      { value: "b".repeat(64) },
      { kind: "cert" },
    ];
    for (const signed of cases) {
      const error = refusal(forwarded("fingerprint", FINGERPRINT, { signed }));
      expect(error.reason).toBe(Reason.FORWARDED_IDENTITY_INVALID);
      expect(error.message).toMatch(/MAC/);
    }
  });

  it("refuses missing, repeated or conflicting headers", () => {
    const good = forwarded("cert", certValue());
    const without = (name: string) => ({
      ...good,
      header: (n: string) => (n === name ? [] : good.header(n)),
    });
    const doubled = (name: string) => ({
      ...good,
      header: (n: string) => (n === name ? [...good.header(n), ...good.header(n)] : good.header(n)),
    });
    const both = {
      ...good,
      header: (n: string) => (n === FORWARDED_HEADERS.fingerprint ? [FINGERPRINT] : good.header(n)),
    };
    const calls = [
      without(FORWARDED_HEADERS.mac),
      without(FORWARDED_HEADERS.at),
      without(FORWARDED_HEADERS.cert),
      doubled(FORWARDED_HEADERS.cert),
      doubled(FORWARDED_HEADERS.mac),
      both,
    ];
    for (const call of calls) {
      expect(refusal(call).reason).toBe(Reason.FORWARDED_IDENTITY_INVALID);
    }
  });

  it("refuses malformed values even under a valid MAC", async () => {
    const foreignCa = await createCertificateAuthority({ commonName: "foreign", validityDays: 1 });
    const foreign = await issueCertificate({
      ca: foreignCa,
      commonName: "agent",
      usage: "client",
      uris: ["did:agent:example.com:0123"],
      validityDays: 1,
      clock,
    });
    const values = [
      ["cert", "not-a-certificate"],
      ["cert", "%E0%A4%A"], // not decodable
      ["cert", encodeURIComponent(agentCertPem + agentCertPem)],
      ["cert", agentCertPem.replaceAll("\n", "")], // raw PEM, not URL-encoded
      ["cert", encodeURIComponent(foreign.certPem)],
      ["fingerprint", FINGERPRINT.toUpperCase()],
      ["fingerprint", FINGERPRINT.slice(1)],
    ] as const;
    for (const [kind, value] of values) {
      expect(refusal(forwarded(kind, value)).reason).toBe(Reason.FORWARDED_IDENTITY_INVALID);
    }
  });

  it("refuses a certificate outside its validity period, also once it was accepted", () => {
    expect(resolve(forwarded("cert", certValue())).role).toBe("agent"); // now remembered as issued
    clock.set((NOW_S + 2 * 86_400) * 1000);
    try {
      expect(refusal(forwarded("cert", certValue())).message).toMatch(/not valid now/);
    } finally {
      clock.set(NOW_S * 1000);
    }
  });

  it("is the TLS peer, whatever the headers, when the feature is off", () => {
    const off = createCallerResolver(
      { enabled: false },
      { trustDomain: TD, ca: Buffer.from(""), clock },
    );
    const call = forwarded("cert", certValue());
    expect(off(call)).toBe(proxyCaller);
  });
});

describe("proxy configuration", () => {
  const enabled = {
    GATEHOUSE_PROXY_ENABLED: "true",
    GATEHOUSE_PROXY_TRUSTED_PEERS: "10.0.0.0/8, 192.0.2.7",
    GATEHOUSE_PROXY_HMAC_SECRET: SECRET,
  };

  function problemsOf(env: Record<string, string>): readonly string[] {
    try {
      loadConfig({ mode: "dev", env });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  it("is off by default and keeps no secret when off", () => {
    expect(loadConfig({ mode: "dev", env: {} }).proxy).toEqual({ enabled: false });
    const off = { ...enabled, GATEHOUSE_PROXY_ENABLED: "false" };
    expect(loadConfig({ mode: "dev", env: off }).proxy).toEqual({ enabled: false });
  });

  it("reads peers, secret and max age from the environment", () => {
    const config = loadConfig({ mode: "dev", env: { ...enabled, GATEHOUSE_PROXY_MAX_AGE: "10" } });
    expect(config.proxy).toEqual({
      enabled: true,
      trustedPeers: ["10.0.0.0/8", "192.0.2.7"],
      hmacSecret: SECRET,
      maxAgeSeconds: 10,
    });
  });

  it("requires peers and secret when enabled", () => {
    expect(problemsOf({ GATEHOUSE_PROXY_ENABLED: "1" })).toEqual([
      "proxy.trusted_peers / GATEHOUSE_PROXY_TRUSTED_PEERS: required when proxy.enabled is true",
      "proxy.hmac_secret / GATEHOUSE_PROXY_HMAC_SECRET: required when proxy.enabled is true",
    ]);
  });

  it("refuses a short secret, bad peers and an unbounded max age without quoting the secret", () => {
    const short = "too-short-but-still-secret";
    const problems = problemsOf({
      ...enabled,
      GATEHOUSE_PROXY_HMAC_SECRET: short,
      GATEHOUSE_PROXY_TRUSTED_PEERS: "10.0.0.0/33",
      GATEHOUSE_PROXY_MAX_AGE: "0",
    });
    expect(problems).toEqual([
      'GATEHOUSE_PROXY_TRUSTED_PEERS: must list IP addresses or CIDR blocks, got "10.0.0.0/33"',
      "GATEHOUSE_PROXY_HMAC_SECRET: must be at least 32 bytes (value not shown)",
      'GATEHOUSE_PROXY_MAX_AGE: must be an integer 1..300, got "0"',
    ]);
    expect(problems.join("\n")).not.toContain(short);
  });

  it("describes the proxy without its secret", () => {
    const summary = describeConfig(loadConfig({ mode: "dev", env: enabled }));
    expect(summary).toContain(
      "proxy            trusted peers 10.0.0.0/8, 192.0.2.7; max age 30s; HMAC secret set",
    );
    expect(summary).not.toContain(SECRET);
    expect(summary).not.toContain(SECRET.slice(0, 8));
  });
});
