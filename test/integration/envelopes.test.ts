import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { type EnvelopeSchema, Weekday } from "../../gen/gatehouse/v1/resources_pb.js";
import { dpopProof, generateAgentKey } from "../../src/client/agent-keys.js";
import { createManualClock, type ManualClock } from "../../src/clock.js";
import { expectReason } from "../support/errors.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
  SCOPES,
  signedChallenge,
} from "../support/flows.js";
import { ISSUER, startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

type EnvelopeInit = MessageInitShape<typeof EnvelopeSchema>;

const INVALID_ARGUMENT = 3;
const TOKEN_URL = `${ISSUER}/v1/tokens`;
const RESOURCE_URL = `${AUDIENCE}/orders`;
/** Monday 2030-01-07 08:00 UTC: time windows are tested from here, moving forward only. */
const MONDAY_0800 = Date.UTC(2030, 0, 7, 8, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const eur = (minorUnits: number) => ({ currency: "EUR", minorUnits: BigInt(minorUnits) });

describe.each(STORE_KINDS)("Envelopes and budgets, enforced by Verify (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  let gh: TestGatehouse;
  let clock: ManualClock;
  const open: Clients[] = [];

  const redis = () => (storeKind === "redis" ? { redisUrl: redisUrl() } : {});

  beforeAll(async () => {
    clock = createManualClock(MONDAY_0800);
    gh = await startTestGatehouse({ storeKind, clock, ...redis() });
  });
  afterAll(async () => {
    for (const clients of open) clients.close();
    await gh?.dispose();
  });

  function clients(target: TestGatehouse, tls: Enrolled["agentTls"]): Clients {
    const made = grpcClients(target, tls);
    open.push(made);
    return made;
  }

  /** A fresh agent whose operator then sets `envelope` in its policy. */
  async function agentWith(envelope: EnvelopeInit): Promise<Enrolled> {
    const agent = await enrollAgent(gh);
    await clients(gh, agent.operatorTls).registry.updateAgentPolicy({
      did: agent.did,
      policy: { scopes: SCOPES, audiences: [AUDIENCE], envelope },
    });
    return agent;
  }

  async function tokenOf(agent: Enrolled, target = gh): Promise<string> {
    return login(clients(target, agent.agentTls).gate, agent);
  }

  function verify(
    agent: Enrolled,
    token: string,
    extra: {
      amount?: { currency: string; minorUnits: bigint };
      dpopProof?: string;
      httpUrl?: string;
    } = {},
    target = gh,
  ) {
    return clients(target, agent.verifierTls).verify.verify({
      token,
      audience: AUDIENCE,
      requiredScopes: ["orders:read"],
      httpMethod: "GET",
      httpUrl: RESOURCE_URL,
      ...extra,
    });
  }

  async function expectDecision<T extends { allowed: boolean; reason: Reason }>(
    pending: Promise<T>,
    reason: Reason | "allowed",
  ): Promise<T> {
    const decision = await pending;
    expect(decision.allowed ? "allowed" : Reason[decision.reason]).toBe(
      reason === "allowed" ? "allowed" : Reason[reason],
    );
    return decision;
  }

  it("refuses requests beyond max_requests per window (ENVELOPE_EXCEEDED), per agent", async () => {
    const agent = await agentWith({ maxRequests: 3, requestWindow: { seconds: 60n } });
    const other = await agentWith({ maxRequests: 3, requestWindow: { seconds: 60n } });
    const token = await tokenOf(agent);
    for (let i = 0; i < 3; i++) {
      const decision = await expectDecision(verify(agent, token), "allowed");
      // A per-request decision must not be cached by the caller.
      expect(decision.cacheTtlSeconds).toBe(0);
    }
    await expectDecision(verify(agent, token), Reason.ENVELOPE_EXCEEDED);
    await expectDecision(verify(other, await tokenOf(other)), "allowed");
    if (storeKind === "memory") {
      clock.advance(61_000);
      await expectDecision(verify(agent, await tokenOf(agent)), "allowed");
    }
  });

  it("refuses a request outside the allowed UTC time windows (OUTSIDE_ALLOWED_TIME)", async () => {
    clock.set(Math.max(clock.now(), MONDAY_0800));
    const start = clock.now();
    expect(new Date(start).getUTCDay()).toBe(1); // still Monday morning, before 09:00
    const agent = await agentWith({
      allowedTimes: [
        { days: [Weekday.MONDAY], startMinute: 9 * 60, endMinute: 17 * 60 },
        { days: [], startMinute: 22 * 60, endMinute: 23 * 60 },
      ],
    });
    const at = async (ms: number, expected: Reason | "allowed") => {
      clock.set(ms);
      await expectDecision(verify(agent, await tokenOf(agent)), expected);
    };
    await at(MONDAY_0800 + 30 * MINUTE, Reason.OUTSIDE_ALLOWED_TIME); // Mon 08:30
    await at(MONDAY_0800 + HOUR, "allowed"); // Mon 09:00, the first minute inside
    await at(MONDAY_0800 + 9 * HOUR - 1, "allowed"); // Mon 16:59:59
    await at(MONDAY_0800 + 9 * HOUR, Reason.OUTSIDE_ALLOWED_TIME); // Mon 17:00, first after
    await at(MONDAY_0800 + 14 * HOUR + 30 * MINUTE, "allowed"); // Mon 22:30, every day
    await at(MONDAY_0800 + 26 * HOUR, Reason.OUTSIDE_ALLOWED_TIME); // Tue 10:00: Mondays only
    await at(MONDAY_0800 + 38 * HOUR + 30 * MINUTE, "allowed"); // Tue 22:30
  });

  it("caps one transaction and refuses another currency (TRANSACTION_LIMIT_EXCEEDED, CURRENCY_MISMATCH)", async () => {
    const agent = await agentWith({ maxTransaction: eur(1000) });
    const token = await tokenOf(agent);
    await expectDecision(verify(agent, token, { amount: eur(1000) }), "allowed");
    await expectDecision(
      verify(agent, token, { amount: eur(1001) }),
      Reason.TRANSACTION_LIMIT_EXCEEDED,
    );
    await expectDecision(
      verify(agent, token, { amount: { currency: "USD", minorUnits: 10n } }),
      Reason.CURRENCY_MISMATCH,
    );
    await expectDecision(verify(agent, token), "allowed");
  });

  it("spends the period budget; a refused or amount-less request spends nothing (BUDGET_EXCEEDED)", async () => {
    const agent = await agentWith({
      maxTransaction: eur(60),
      budget: eur(100),
      budgetPeriod: { seconds: 3600n },
    });
    const token = await tokenOf(agent);
    await expectDecision(
      verify(agent, token, { amount: eur(61) }),
      Reason.TRANSACTION_LIMIT_EXCEEDED,
    );
    await expectDecision(
      verify(agent, token, { amount: { currency: "GBP", minorUnits: 1n } }),
      Reason.CURRENCY_MISMATCH,
    );
    await expectDecision(verify(agent, token), "allowed");
    await expectDecision(verify(agent, token, { amount: eur(60) }), "allowed");
    await expectDecision(verify(agent, token, { amount: eur(50) }), Reason.BUDGET_EXCEEDED);
    await expectDecision(verify(agent, token, { amount: eur(40) }), "allowed");
    await expectDecision(verify(agent, token, { amount: eur(1) }), Reason.BUDGET_EXCEEDED);
    await expectDecision(verify(agent, token, { amount: eur(0) }), "allowed");
    await expectDecision(verify(agent, token), "allowed");
    // The period is a fixed window aligned to the epoch: the next one starts afresh.
    clock.set((Math.floor(clock.now() / HOUR) + 1) * HOUR + 1_000);
    await expectDecision(verify(agent, await tokenOf(agent), { amount: eur(60) }), "allowed");
  });

  it("spends atomically: 20 concurrent spends of 10 against 100 → exactly 10 allowed", async () => {
    const agent = await agentWith({ budget: eur(100), budgetPeriod: { seconds: 3600n } });
    // With Redis, two instances share the budget; the embedded store races within one.
    const second =
      storeKind === "redis"
        ? await startTestGatehouse({ storeKind, clock, dataDir: gh.dataDir, ...redis() })
        : gh;
    try {
      const token = await tokenOf(agent);
      const decisions = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          verify(agent, token, { amount: eur(10) }, i % 2 === 0 ? gh : second),
        ),
      );
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10);
      for (const decision of decisions.filter((d) => !d.allowed)) {
        expect(Reason[decision.reason]).toBe(Reason[Reason.BUDGET_EXCEEDED]);
      }
    } finally {
      if (second !== gh) await second.stop();
    }
  });

  /** A fresh agent with a freeze envelope, its DPoP-bound token, and proofs by its key. */
  async function boundAgent(freezeSeconds: number) {
    const agent = await agentWith({
      freezeAfterFailures: 3,
      freezeWindow: { seconds: 60n },
      freezeDuration: { seconds: BigInt(freezeSeconds) },
    });
    const now = () => Math.floor(clock.now() / 1000);
    const proof = (
      accessToken?: string,
      options: { key?: Enrolled["key"]; htu?: string; iat?: number } = {},
    ) => {
      const value = dpopProof(options.key ?? agent.key, {
        htm: accessToken === undefined ? "POST" : "GET",
        htu: options.htu ?? (accessToken === undefined ? TOKEN_URL : RESOURCE_URL),
        iat: options.iat ?? now(),
        ...(accessToken !== undefined && { accessToken }),
      });
      rememberSecret(value);
      return value;
    };
    const gate = clients(gh, agent.agentTls).gate;
    const { challengeId, signature } = await signedChallenge(gate, agent);
    const { passToken: pass } = await gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });
    rememberSecret(pass);
    const { accessToken: token } = await gate.token({
      grant: { case: "passToken", value: pass },
      dpopProof: proof(),
    });
    rememberSecret(token);
    return { agent, token, proof };
  }

  // Deliberate change (issue 11 item 12): only proofs the bound key's holder got wrong count;
  // replays no longer do (anyone who saw a proof can replay it).
  it("freezes the agent after N proofs its key holder got wrong, then thaws (AGENT_FROZEN)", async () => {
    const freezeSeconds = storeKind === "memory" ? 30 : 1;
    const { agent, token, proof } = await boundAgent(freezeSeconds);
    const elsewhere = { htu: `${AUDIENCE}/elsewhere` };

    await expectDecision(verify(agent, token, { dpopProof: proof(token) }), "allowed");
    await expectDecision(
      verify(agent, token, { dpopProof: proof(token, elsewhere) }),
      Reason.DPOP_INVALID,
    );
    await expectDecision(
      verify(agent, token, { dpopProof: proof(token, elsewhere) }),
      Reason.DPOP_INVALID,
    );
    await expectDecision(verify(agent, token, { dpopProof: proof(token) }), "allowed");
    await expectDecision(
      verify(agent, token, { dpopProof: proof(token, elsewhere) }),
      Reason.DPOP_INVALID,
    );
    // The third failure froze the agent: even a fresh, valid proof is refused.
    await expectDecision(verify(agent, token, { dpopProof: proof(token) }), Reason.AGENT_FROZEN);

    if (storeKind === "memory") clock.advance(freezeSeconds * 1000 + 1_000);
    else await sleep(freezeSeconds * 1000 + 300);
    await expectDecision(verify(agent, token, { dpopProof: proof(token) }), "allowed");
  });

  it("never freezes the agent for junk proofs sent by someone who saw its token", async () => {
    const { agent, token, proof } = await boundAgent(600);
    const stranger = generateAgentKey();
    const used = proof(token);
    await expectDecision(verify(agent, token, { dpopProof: used }), "allowed");
    const [header, payload] = used.split(".") as [string, string];
    const junk = [
      // Signed by another key than the bound one (the attacker's own).
      () => proof(token, { key: stranger }),
      () => proof(token, { key: stranger, htu: `${AUDIENCE}/elsewhere` }),
      // The holder's header and claims with a signature that does not verify.
      () => `${header}.${payload}.${Buffer.alloc(64, 7).toString("base64url")}`,
      () => "not.a.proof",
      // A genuine proof, replayed, diverted to another URL, or stale.
      () => used,
      () => proof(token, { iat: Math.floor(clock.now() / 1000) - 3600 }),
    ];
    for (let round = 0; round < 5; round++) {
      for (const make of junk) {
        const decision = await verify(agent, token, { dpopProof: make() });
        expect(decision.allowed).toBe(false);
        expect([Reason.DPOP_INVALID, Reason.DPOP_REPLAYED]).toContain(decision.reason);
      }
    }
    // A genuine proof diverted to another URL before use counts once at most (its jti is spent).
    const diverted = { dpopProof: proof(token), httpUrl: `${AUDIENCE}/elsewhere` };
    await expectDecision(verify(agent, token, diverted), Reason.DPOP_INVALID);
    for (let i = 0; i < 5; i++) {
      await expectDecision(verify(agent, token, diverted), Reason.DPOP_REPLAYED);
    }
    await expectDecision(verify(agent, token, { dpopProof: proof(token) }), "allowed");
  });

  it("names the field of an invalid envelope (INVALID_ARGUMENT)", async () => {
    const agent = await enrollAgent(gh);
    const registry = clients(gh, agent.operatorTls).registry;
    const update = (envelope: EnvelopeInit) =>
      registry.updateAgentPolicy({
        did: agent.did,
        policy: { scopes: SCOPES, audiences: [AUDIENCE], envelope },
      });
    const cases: [EnvelopeInit, string][] = [
      [
        { allowedTimes: [{ startMinute: 600, endMinute: 600 }] },
        "policy.envelope.allowed_times[0].end_minute",
      ],
      [
        { allowedTimes: [{ days: [Weekday.UNSPECIFIED], startMinute: 0, endMinute: 60 }] },
        "policy.envelope.allowed_times[0].days[0]",
      ],
      [
        {
          maxTransaction: eur(10),
          budget: { currency: "USD", minorUnits: 100n },
          budgetPeriod: { seconds: 60n },
        },
        "policy.envelope.budget.currency",
      ],
      [{ maxTransaction: eur(-1) }, "policy.envelope.max_transaction.minor_units"],
      [{ budget: eur(100) }, "policy.envelope.budget_period"],
      [
        { maxTransaction: { currency: "", minorUnits: 5n } },
        "policy.envelope.max_transaction.currency",
      ],
      [{ maxRequests: 10 }, "policy.envelope.request_window"],
      [{ maxRequests: 10, requestWindow: { seconds: -1n } }, "policy.envelope.request_window"],
      [
        { freezeAfterFailures: 3, freezeWindow: { seconds: 60n } },
        "policy.envelope.freeze_duration",
      ],
      [
        { freezeAfterFailures: 3, freezeDuration: { seconds: 60n } },
        "policy.envelope.freeze_window",
      ],
    ];
    for (const [envelope, field] of cases) {
      const error = await expectReason(update(envelope), Reason.INVALID_ARGUMENT, INVALID_ARGUMENT);
      expect(error.field).toBe(field);
    }
  });

  it("returns the envelope as stored, and refuses a negative amount in Verify", async () => {
    const envelope: EnvelopeInit = {
      maxRequests: 5,
      requestWindow: { seconds: 60n },
      allowedTimes: [{ days: [Weekday.SATURDAY], startMinute: 0, endMinute: 1440 }],
      maxTransaction: eur(500),
      budget: eur(5000),
      budgetPeriod: { seconds: 86_400n },
      freezeAfterFailures: 4,
      freezeWindow: { seconds: 120n },
      freezeDuration: { seconds: 600n },
    };
    const agent = await agentWith(envelope);
    const { agent: stored } = await clients(gh, agent.operatorTls).registry.getAgent({
      did: agent.did,
    });
    const got = stored?.policy?.envelope;
    expect(got?.maxRequests).toBe(5);
    expect(got?.requestWindow?.seconds).toBe(60n);
    expect(got?.allowedTimes[0]).toMatchObject({
      days: [Weekday.SATURDAY],
      startMinute: 0,
      endMinute: 1440,
    });
    expect(got?.maxTransaction).toMatchObject(eur(500));
    expect(got?.budget).toMatchObject(eur(5000));
    expect(got?.budgetPeriod?.seconds).toBe(86_400n);
    expect(got?.freezeAfterFailures).toBe(4);
    expect(got?.freezeWindow?.seconds).toBe(120n);
    expect(got?.freezeDuration?.seconds).toBe(600n);

    const error = await expectReason(
      verify(agent, "x.y.z", { amount: eur(-5) }),
      Reason.INVALID_ARGUMENT,
      INVALID_ARGUMENT,
    );
    expect(error.field).toBe("amount.minor_units");
  });
});
