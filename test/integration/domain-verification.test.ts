import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import {
  DomainVerificationMethod,
  DomainVerificationState,
  type Operator,
} from "../../gen/gatehouse/v1/resources_pb.js";
import { agentDid, generateAgentKey, proofOfPossession } from "../../src/client/agent-keys.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { createManualClock, type ManualClock } from "../../src/clock.js";
import type { ConfigOverrides } from "../../src/config/index.js";
import type { RoleIdentity } from "../../src/pki/role-certificate.js";
import {
  startTestDns,
  startWellKnownServer,
  type TestDns,
  type WellKnownServer,
} from "../support/domain-servers.js";
import { expectReason } from "../support/errors.js";
import { AUDIENCE, type Clients, grpcClients } from "../support/flows.js";
import { type StoreKind, startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const { DNS_TXT, HTTPS_WELL_KNOWN, ADMIN_ATTESTED } = DomainVerificationMethod;
const { PENDING, VERIFIED, EXPIRED } = DomainVerificationState;
const TTL_SECONDS = 3_600;
const TIMEOUT_MS = 1_000;
/** Operators whose well-known file the HTTPS server serves: its certificate names them. */
const HTTPS_LABELS = ["https", "redirect", "oversized", "slow", "private"];
const domainOf = (label: string, storeKind: string) => `${label}-${storeKind}.test`;

let dns: TestDns;
let https: WellKnownServer;
let caDir: string;
let caFile: string;
const tokens: string[] = [];

beforeAll(async () => {
  const names = STORE_KINDS.flatMap((kind) => HTTPS_LABELS.map((label) => domainOf(label, kind)));
  [dns, https] = await Promise.all([startTestDns(), startWellKnownServer(names)]);
  caDir = await mkdtemp(join(tmpdir(), "gatehouse-domains-"));
  caFile = join(caDir, "ca.pem");
  await writeFile(caFile, https.caPem);
});
afterAll(async () => {
  await Promise.all([dns?.close(), https?.close()]);
  await rm(caDir, { recursive: true, force: true });
});

/** The loopback DNS and HTTPS servers, trusted; `allowPrivateAddresses` since both are local. */
function domainOverrides(allowPrivateAddresses: boolean): ConfigOverrides {
  return {
    domains: {
      dnsServers: [dns.address],
      httpsPort: https.port,
      caFile,
      allowPrivateAddresses,
      timeoutMs: TIMEOUT_MS,
      verificationTtlSeconds: TTL_SECONDS,
    },
  };
}

interface DomainGatehouseOptions {
  readonly storeKind: StoreKind;
  readonly redisUrl?: () => string;
  readonly allowPrivateAddresses: boolean;
}

/** A Gatehouse plus an admin, and a way to create operators that are not verified yet. */
function useDomainGatehouse({
  storeKind,
  redisUrl,
  allowPrivateAddresses,
}: DomainGatehouseOptions) {
  const open: Clients[] = [];
  const state = {} as { gh: TestGatehouse; clock: ManualClock; admin: Clients };

  beforeAll(async () => {
    state.clock = createManualClock(Date.now());
    state.gh = await startTestGatehouse({
      storeKind,
      clock: state.clock,
      ...(redisUrl ? { redisUrl: redisUrl() } : {}),
      overrides: domainOverrides(allowPrivateAddresses),
    });
    state.admin = grpcClients(state.gh, await state.gh.clientTls({ role: "admin", name: "a" }));
    open.push(state.admin);
  });
  afterAll(async () => {
    for (const clients of open.splice(0)) clients.close();
    // The tokens reached the test through GetOperator only, never a log line.
    const logs = state.gh?.logs.join("") ?? "";
    for (const token of tokens) expect(logs).not.toContain(token);
    await state.gh?.dispose();
  });

  /** A fresh operator (not attested), its clients, and its verification token. */
  async function newOperator(label: string) {
    const domain = domainOf(label, storeKind);
    await state.admin.registry.createOperator({ domain, displayName: label });
    const clients = await clientsOf({ role: "operator", domain });
    const { operator } = await clients.registry.getOperator({ domain });
    const token = operator?.verification?.token ?? "";
    rememberSecret(token);
    tokens.push(token);
    return { domain, clients, token };
  }

  async function clientsOf(identity: RoleIdentity) {
    const clients = grpcClients(state.gh, await state.gh.clientTls(identity));
    open.push(clients);
    return clients;
  }

  return { state, newOperator, clientsOf };
}

function registration(domain: string) {
  const key = generateAgentKey();
  const did = agentDid(key, domain);
  return {
    did,
    publicKey: key.publicKey,
    proofOfPossession: proofOfPossession(key, did, domain),
    policy: { scopes: ["orders:read"], audiences: [AUDIENCE] },
  };
}

function publishTxt(domain: string, value: string) {
  dns.set(`_gatehouse-challenge.${domain}`, { txt: [`gatehouse-verification=${value}`] });
}

/** The domain resolves to the loopback HTTPS server, which answers `answer`. */
function serveWellKnown(domain: string, answer: Parameters<WellKnownServer["answer"]>[1]) {
  dns.set(domain, { a: ["127.0.0.1"] });
  https.answer(domain, answer);
}

const verification = (operator: Operator | undefined) => {
  if (!operator?.verification) throw new Error("operator without verification");
  return operator.verification;
};

describe.each(STORE_KINDS)("Operator domain verification (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const { state, newOperator, clientsOf } = useDomainGatehouse({
    storeKind,
    ...(storeKind === "redis" ? { redisUrl } : {}),
    allowPrivateAddresses: true,
  });

  it("starts pending with a token and where to publish it; meanwhile it can touch no agent", async () => {
    const { domain, clients, token } = await newOperator("pending");
    const { operator } = await clients.registry.getOperator({ domain });
    expect(verification(operator)).toMatchObject({
      state: PENDING,
      method: DomainVerificationMethod.UNSPECIFIED,
      dnsRecordName: `_gatehouse-challenge.${domain}`,
      httpsUrl: `https://${domain}:${https.port}/.well-known/gatehouse-verification`,
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(verification(operator).verifyTime).toBeUndefined();
    await expectReason(
      clients.registry.registerAgent(registration(domain)),
      Reason.OPERATOR_UNVERIFIED,
      9,
    );
    await expectReason(
      clients.registry.revoke({ target: { case: "tokenId", value: "some-token-id" } }),
      Reason.OPERATOR_UNVERIFIED,
    );
  });

  it("verifies by DNS TXT record; then the operator registers agents, and it is audited", async () => {
    const { domain, clients, token } = await newOperator("dns");
    publishTxt(domain, token);
    const { operator } = await clients.registry.verifyOperatorDomain({ domain, method: DNS_TXT });
    const proof = verification(operator);
    expect(proof).toMatchObject({ state: VERIFIED, method: DNS_TXT, token });
    const now = state.clock.now();
    expect(proof.verifyTime && timestampMs(proof.verifyTime)).toBe(now);
    expect(proof.expireTime && timestampMs(proof.expireTime)).toBe(now + TTL_SECONDS * 1000);
    await expect(clients.registry.registerAgent(registration(domain))).resolves.toBeDefined();

    await state.gh.app.audit.flush();
    const audit = createGrpcClient(AuditService, {
      address: state.gh.grpcAddress,
      tls: await state.gh.clientTls({ role: "admin", name: "auditor" }),
    });
    try {
      const { entries } = await audit.listAuditEvents({
        operatorDomain: domain,
        types: [AuditEventType.OPERATOR_DOMAIN_VERIFIED],
      });
      const events = entries.map(({ event }) => [event?.actor, event?.comment]);
      expect(events).toEqual([[domain, "dns_txt"]]);
    } finally {
      audit.close();
    }
  });

  it("refuses a missing or wrong record and changes nothing", async () => {
    const { domain, clients } = await newOperator("wrong");
    const verify = () => clients.registry.verifyOperatorDomain({ domain, method: DNS_TXT });
    const missing = await expectReason(verify(), Reason.DOMAIN_VERIFICATION_FAILED);
    expect(missing.message).toBe(`no TXT record at _gatehouse-challenge.${domain}`);
    publishTxt(domain, "not-the-token");
    const refused = await expectReason(verify(), Reason.DOMAIN_VERIFICATION_FAILED);
    expect(refused.message).not.toContain("not-the-token");
    const { operator } = await clients.registry.getOperator({ domain });
    expect(verification(operator).state).toBe(PENDING);
    await expectReason(
      clients.registry.registerAgent(registration(domain)),
      Reason.OPERATOR_UNVERIFIED,
    );
  });

  it("verifies by HTTPS well-known file", async () => {
    const { domain, clients, token } = await newOperator("https");
    serveWellKnown(domain, { body: `${token}\n` });
    const { operator } = await clients.registry.verifyOperatorDomain({
      domain,
      method: HTTPS_WELL_KNOWN,
    });
    expect(verification(operator)).toMatchObject({ state: VERIFIED, method: HTTPS_WELL_KNOWN });
    await expect(clients.registry.registerAgent(registration(domain))).resolves.toBeDefined();
  });

  it("refuses a redirect, an oversized file and a slow server, and stays pending", async () => {
    const cases = [
      [
        "redirect",
        { redirect: "https://elsewhere.test/.well-known/gatehouse-verification" },
        "redirects are not followed",
      ],
      ["oversized", { body: "x".repeat(64 * 1024), chunked: true }, "larger than 4096 bytes"],
      ["slow", { body: "", delayMs: 3 * TIMEOUT_MS }, "did not arrive in time"],
    ] as const;
    for (const [label, answer, why] of cases) {
      const { domain, clients, token } = await newOperator(label);
      serveWellKnown(domain, "body" in answer ? { ...answer, body: token + answer.body } : answer);
      const error = await expectReason(
        clients.registry.verifyOperatorDomain({ domain, method: HTTPS_WELL_KNOWN }),
        Reason.DOMAIN_VERIFICATION_FAILED,
      );
      expect(error.message).toContain(why);
      const { operator } = await clients.registry.getOperator({ domain });
      expect(verification(operator).state, label).toBe(PENDING);
    }
  });

  it("refuses ADMIN_ATTESTED as a method to check", async () => {
    const { domain, clients } = await newOperator("attest-check");
    const error = await expectReason(
      clients.registry.verifyOperatorDomain({ domain, method: ADMIN_ATTESTED }),
      Reason.INVALID_ARGUMENT,
    );
    expect(error.field).toBe("method");
  });

  it("keeps other operators and agents out", async () => {
    const { domain } = await newOperator("owner");
    const other = await newOperator("other");
    await expectReason(other.clients.registry.getOperator({ domain }), Reason.OPERATOR_MISMATCH);
    await expectReason(
      other.clients.registry.verifyOperatorDomain({ domain, method: DNS_TXT }),
      Reason.OPERATOR_MISMATCH,
    );
    await expectReason(
      other.clients.registry.setOperatorKey({ domain, publicKey: generateAgentKey().publicKey }),
      Reason.OPERATOR_MISMATCH,
    );
    const agent = await clientsOf({ role: "agent", did: agentDid(generateAgentKey(), domain) });
    await expectReason(agent.registry.getOperator({ domain }), Reason.PERMISSION_DENIED, 7);
    await expectReason(
      agent.registry.verifyOperatorDomain({ domain, method: DNS_TXT }),
      Reason.PERMISSION_DENIED,
    );
  });

  it("lets an admin attest a domain at creation: verified at once, never expiring", async () => {
    const domain = domainOf("attested", storeKind);
    const { operator } = await state.admin.registry.createOperator({ domain, attestDomain: true });
    expect(verification(operator)).toMatchObject({ state: VERIFIED, method: ADMIN_ATTESTED });
    expect(verification(operator).expireTime).toBeUndefined();
    rememberSecret(verification(operator).token);
    tokens.push(verification(operator).token);
    const read = await state.admin.registry.getOperator({ domain });
    expect(verification(read.operator).token).toBe(verification(operator).token);
  });

  it("sets the operator's key, refusing anything but a valid Ed25519 point", async () => {
    const { domain, clients } = await newOperator("key");
    const notAPoint = new Uint8Array(32).fill(0xff);
    const smallOrder = new Uint8Array(32);
    smallOrder[0] = 1; // the identity point
    for (const publicKey of [notAPoint, smallOrder]) {
      const error = await expectReason(
        clients.registry.setOperatorKey({ domain, publicKey }),
        Reason.INVALID_ARGUMENT,
        3,
      );
      expect(error.field).toBe("public_key");
    }
    const key = generateAgentKey().publicKey;
    const { operator } = await clients.registry.setOperatorKey({ domain, publicKey: key });
    expect(Buffer.from(operator?.publicKey ?? []).equals(Buffer.from(key))).toBe(true);
    const short = await expectReason(
      state.admin.registry.createOperator({
        domain: domainOf("short-key", storeKind),
        publicKey: key.subarray(0, 31),
      }),
      Reason.INVALID_ARGUMENT,
    );
    expect(short.field).toBe("public_key");
  });

  it("limits checks per domain", async () => {
    const { domain, clients } = await newOperator("limited");
    const verify = () => clients.registry.verifyOperatorDomain({ domain, method: DNS_TXT });
    for (let i = 0; i < 10; i++) await expectReason(verify(), Reason.DOMAIN_VERIFICATION_FAILED);
    await expectReason(verify(), Reason.RATE_LIMITED);
  });

  // Last: it moves the clock past the validity of every proof made above.
  it("expires a proof after the configured validity; verifying again restores the operator", async () => {
    const { domain, clients, token } = await newOperator("expiry");
    publishTxt(domain, token);
    await clients.registry.verifyOperatorDomain({ domain, method: DNS_TXT });
    state.clock.advance(TTL_SECONDS * 1000);
    const { operator } = await clients.registry.getOperator({ domain });
    expect(verification(operator)).toMatchObject({ state: EXPIRED, method: DNS_TXT });
    await expectReason(
      clients.registry.registerAgent(registration(domain)),
      Reason.OPERATOR_UNVERIFIED,
    );
    const again = await clients.registry.verifyOperatorDomain({ domain, method: DNS_TXT });
    expect(verification(again.operator).state).toBe(VERIFIED);
    await expect(clients.registry.registerAgent(registration(domain))).resolves.toBeDefined();
  });
});

describe("Operator domain verification with private addresses refused (the default)", () => {
  const { newOperator } = useDomainGatehouse({ storeKind: "memory", allowPrivateAddresses: false });

  it("refuses a domain that resolves to a private address, without connecting to it", async () => {
    const { domain, clients, token } = await newOperator("private");
    serveWellKnown(domain, { body: token });
    const before = https.connections;
    for (const address of ["127.0.0.1", "10.0.0.1"]) {
      dns.set(domain, { a: [address] });
      const error = await expectReason(
        clients.registry.verifyOperatorDomain({ domain, method: HTTPS_WELL_KNOWN }),
        Reason.DOMAIN_VERIFICATION_FAILED,
      );
      expect(error.message).toBe("the domain resolves to a non-public address");
    }
    expect(https.connections).toBe(before);
  });
});
