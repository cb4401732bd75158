import { describe, expect, it } from "vitest";
import { Reason } from "../../../../../../gen/gatehouse/v1/errors_pb.js";
import { sha256Hex } from "../../../../../../src/crypto/random.js";
import type { PassRecord } from "../../../../../../src/services/gate/deps.js";
import { passFlow } from "../../../../../../src/services/gate/token/flows/pass.js";
import { refused, thrownOutcome } from "../../../../outcome.js";
import { policy } from "../../../../verify/steps/fixture.js";
import {
  AUDIENCE,
  call,
  FINGERPRINT,
  type GateHarness,
  gateHarness,
  NOW_MS,
} from "../../fixture.js";

const PASS = "P".repeat(43);

async function withPass(h: GateHarness, changes: Partial<PassRecord> = {}): Promise<void> {
  const record: PassRecord = {
    did: h.agent.did,
    caller: FINGERPRINT,
    scopes: ["orders:read"],
    audience: AUDIENCE,
    expiresAt: NOW_MS + 60_000,
    ...changes,
  };
  await h.store.passes.put(sha256Hex(PASS), record, 120_000);
}

describe("pass flow: a pass from Submit, once, by its caller, against the policy now", () => {
  it.each<[string, Partial<PassRecord> | undefined, (h: GateHarness) => Promise<void>, unknown]>([
    [
      "an unknown pass",
      undefined,
      async () => {},
      refused(Reason.PASS_NOT_FOUND, "pass not found"),
    ],
    [
      "another caller's pass",
      { caller: "cd".repeat(32) },
      async () => {},
      refused(Reason.PASS_IDENTITY_MISMATCH, "pass was issued to another caller"),
    ],
    [
      "an expired pass",
      { expiresAt: NOW_MS - 1 },
      async () => {},
      refused(Reason.PASS_EXPIRED, "pass expired"),
    ],
    [
      "a pass of an agent suspended since",
      {},
      (h) => suspend(h),
      refused(Reason.AGENT_SUSPENDED, "agent suspended"),
    ],
    [
      "a scope the policy dropped since",
      {},
      (h) => narrow(h),
      refused(Reason.SCOPE_NOT_ALLOWED, "scope outside agent policy"),
    ],
  ])("refuses %s", async (_case, pass, change, expected) => {
    const h = await gateHarness();
    if (pass) await withPass(h, pass);
    await change(h);
    expect(await thrownOutcome(() => passFlow(h.deps, PASS, call()))).toEqual(expected);
  });

  it("establishes the token's subject, scopes and audience, and spends the pass", async () => {
    const h = await gateHarness();
    await withPass(h);
    const outcome = await passFlow(h.deps, PASS, call());
    expect(outcome).toMatchObject({
      scopes: ["orders:read"],
      audience: AUDIENCE,
      authority: { grantIds: [] },
    });
    expect(outcome.agent.did).toBe(h.agent.did);
    expect(await thrownOutcome(() => passFlow(h.deps, PASS, call()))).toEqual(
      refused(Reason.PASS_ALREADY_USED, "pass already used"),
    );
  });
});

async function suspend(h: GateHarness): Promise<void> {
  await h.store.registry.updateAgent({ ...h.agent, status: "suspended", revision: 2 }, 1);
}

async function narrow(h: GateHarness): Promise<void> {
  const next = { ...h.agent, policy: policy({ scopes: [] }), policyVersion: 2, revision: 2 };
  await h.store.registry.updateAgent(next, 1);
}
