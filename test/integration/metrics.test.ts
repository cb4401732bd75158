import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  Authorization,
  CheckRequestSchema,
} from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Reason, ReasonSchema } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKindSchema, TokenRequestSchema } from "../../gen/gatehouse/v1/gate_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createConnectClient, createMtlsTransport } from "../../src/client/connect-client.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { DEFAULT_METRIC_PREFIXES, METRICS } from "../../src/observability/metric-names.js";
import { CODE_NAMES } from "../../src/observability/rpc-metrics.js";
import { STORE_OPERATIONS } from "../../src/observability/store-metrics.js";
import { RPC_POLICY } from "../../src/server/policy.js";
import type { InvalidationEvent } from "../../src/store/ports.js";
import type { VerifyCacheName } from "../../src/verify/cache.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, type Enrolled, enrollAgent, grpcClients, login } from "../support/flows.js";
import { type Sample, scrape, total } from "../support/prometheus.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const AGENTS = 50;

/** Every value each label of Gatehouse's own metrics may take: finite, fixed by the server. */
const KNOWN_VALUES: Readonly<Record<string, ReadonlySet<string>>> = {
  transport: new Set(["grpc", "connect"]),
  method: new Set(Object.keys(RPC_POLICY)),
  code: new Set(CODE_NAMES),
  rpc: new Set(["verify", "check"]),
  reason: new Set(["OK", ...ReasonSchema.values.map((value) => value.localName)]),
  kind: new Set([
    ...ChallengeKindSchema.values.map((value) => value.localName.toLowerCase()),
    ...([
      "token",
      "agent",
      "operator",
      "agent_key",
      "signing_keys",
      "grant",
      "all",
    ] satisfies InvalidationEvent["kind"][]),
    "none",
  ]),
  outcome: new Set(["issued", "passed", "failed", "ok"]),
  // Token's grant label is the field's JSON name (`pass` for pass_token; see gate-metrics.ts).
  grant: new Set([
    "none",
    ...(TokenRequestSchema.oneofs[0]?.fields.map((field) => field.jsonName) ?? []),
  ]),
  operation: new Set(STORE_OPERATIONS),
  cache: new Set([
    "token",
    "agent",
    "operator",
    "revoked_token",
    "revoked_agent_key",
    "issued_until",
    "grant",
  ] satisfies VerifyCacheName[]),
  result: new Set(["hit", "miss"]),
};

/** prom-client's histogram bucket label. */
const HISTOGRAM_LABELS = new Set(["le"]);

const OWN_NAMES = new Set(
  Object.values(METRICS).flatMap(({ name }) => [
    name,
    `${name}_bucket`,
    `${name}_sum`,
    `${name}_count`,
  ]),
);

function checkRequest(token: string) {
  const host = new URL(AUDIENCE).host;
  return create(CheckRequestSchema, {
    attributes: {
      request: {
        http: {
          method: "GET",
          path: "/orders",
          host,
          headers: { host, authorization: `Bearer ${token}` },
        },
      },
    },
  });
}

/** One agent's traffic: a login, two Verify calls (a cache hit), a denial, and a Check. */
async function run(fixture: ReturnType<typeof useGatehouse>, agent: Enrolled): Promise<void> {
  const clients = grpcClients(fixture.gh, agent.agentTls);
  const authz = createGrpcClient(Authorization, {
    address: fixture.gh.grpcAddress,
    tls: agent.verifierTls,
  });
  try {
    const token = await login(clients.gate, agent);
    for (let i = 0; i < 2; i++) {
      const decision = await fixture.verifier.verify.verify({ token, audience: AUDIENCE });
      expect(decision.allowed).toBe(true);
    }
    const denied = await fixture.verifier.verify.verify({ token, audience: "https://other" });
    expect(denied.reason).toBe(Reason.TOKEN_AUDIENCE_MISMATCH);
    expect((await authz.check(checkRequest(token))).status?.code).toBe(0);
  } finally {
    clients.close();
    authz.close();
  }
}

describe.each(STORE_KINDS)("metrics on the metrics listener (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const fixture = useGatehouse({ storeKind, redisUrl });

  it(`counts ${AGENTS} agents' traffic with labels from finite sets only`, async () => {
    const agents: Enrolled[] = [];
    for (let i = 0; i < AGENTS; i += 10) {
      agents.push(
        ...(await Promise.all(Array.from({ length: 10 }, () => enrollAgent(fixture.gh)))),
      );
    }
    for (let i = 0; i < AGENTS; i += 10) {
      await Promise.all(agents.slice(i, i + 10).map((agent) => run(fixture, agent)));
    }
    // A refusal (the agent may not list agents) and one call over Connect.
    const first = agents[0] as Enrolled;
    const clients = grpcClients(fixture.gh, first.agentTls);
    await expectReason(clients.registry.listAgents({ pageSize: 10 }), Reason.PERMISSION_DENIED);
    clients.close();
    const connect = createConnectClient(
      VerifyService,
      createMtlsTransport(fixture.gh.connectUrl, first.verifierTls, "connect-binary"),
    );
    expect((await connect.getJwks({})).keys.length).toBeGreaterThan(0);

    const samples = await scrape(fixture.gh.metricsUrl);
    assertBoundedLabels(samples, agents);

    const rpc = METRICS.rpcRequests.name;
    const verify = "gatehouse.v1.VerifyService/Verify";
    expect(total(samples, rpc, { transport: "grpc", method: verify, code: "OK" })).toBe(
      AGENTS * 3, // two allowed and one denied per agent
    );
    expect(
      total(samples, rpc, {
        method: "gatehouse.v1.RegistryService/ListAgents",
        code: "PERMISSION_DENIED",
      }),
    ).toBe(1);
    expect(
      total(samples, rpc, { transport: "connect", method: "gatehouse.v1.VerifyService/GetJwks" }),
    ).toBe(1);
    const decisions = METRICS.decisions.name;
    expect(total(samples, decisions, { rpc: "verify", reason: "OK" })).toBe(AGENTS * 2);
    expect(total(samples, decisions, { rpc: "verify", reason: "TOKEN_AUDIENCE_MISMATCH" })).toBe(
      AGENTS,
    );
    expect(total(samples, decisions, { rpc: "check", reason: "OK" })).toBe(AGENTS);
    const challenges = METRICS.challenges.name;
    expect(total(samples, challenges, { kind: "signature", outcome: "issued" })).toBe(AGENTS);
    expect(total(samples, challenges, { kind: "signature", outcome: "passed" })).toBe(AGENTS);
    expect(total(samples, METRICS.logins.name, { grant: "pass", outcome: "ok" })).toBe(AGENTS);
    expect(total(samples, `${METRICS.loginDuration.name}_count`, { grant: "pass" })).toBe(AGENTS);
    expect(
      total(samples, `${METRICS.storeDuration.name}_count`, { operation: "challenges.consume" }),
    ).toBe(AGENTS);
    expect(total(samples, METRICS.cacheLookups.name, { cache: "token", result: "hit" })).toBe(
      AGENTS * 2, // the second Verify and the Check reuse the first Verify's entry
    );
    expect(total(samples, METRICS.signingKeyAge.name)).toBeGreaterThanOrEqual(0);
    expect(total(samples, METRICS.signingKeyNextRotation.name)).toBeGreaterThan(0);
    expect(samples.some((sample) => sample.name === METRICS.auditQueueDepth.name)).toBe(true);
    expect(total(samples, METRICS.auditWriteFailures.name)).toBe(0);
    expect(total(samples, METRICS.ready.name)).toBe(1);
    expect(samples.some((sample) => sample.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(samples.some((sample) => sample.name === "process_cpu_user_seconds_total")).toBe(true);
  });
});

/**
 * Every series is one of Gatehouse's own (each label value from its finite set) or a
 * default process metric; no label anywhere carries a DID, a domain or a token.
 */
function assertBoundedLabels(samples: readonly Sample[], agents: readonly Enrolled[]): void {
  const callerValues = agents.flatMap((agent) => [agent.did, agent.domain]);
  for (const sample of samples) {
    const own = OWN_NAMES.has(sample.name);
    const isDefault = DEFAULT_METRIC_PREFIXES.some((prefix) => sample.name.startsWith(prefix));
    expect(own || isDefault, `unexpected metric ${sample.name}`).toBe(true);
    for (const [label, value] of Object.entries(sample.labels)) {
      expect(
        callerValues.some((caller) => value.includes(caller)),
        `${label}=${value}`,
      ).toBe(false);
      expect(value, `${sample.name} ${label}`).not.toMatch(/did:|example\.com|eyJ/);
      if (!own || HISTOGRAM_LABELS.has(label)) continue;
      expect(KNOWN_VALUES[label]?.has(value), `${sample.name}{${label}="${value}"}`).toBe(true);
    }
  }
}
