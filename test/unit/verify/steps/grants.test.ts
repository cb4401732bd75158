import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { decided, requested, revoked } from "../../../../src/grants/lifecycle.js";
import type { GrantRecord } from "../../../../src/store/ports.js";
import { grantsStep } from "../../../../src/verify/steps/grants.js";
import { refused, stepOutcome } from "../../outcome.js";
import { AUDIENCE, claims, DID, harness, NOW_MS, OPERATOR, state } from "./fixture.js";

const HOUR = 3_600_000;
const APPROVER = { id: "ap1", displayName: "Ana" };
const pending = (changes: { audience?: string; did?: string } = {}): GrantRecord =>
  requested(
    {
      id: "g1",
      agent: { did: changes.did ?? DID, operatorDomain: OPERATOR },
      audience: changes.audience ?? AUDIENCE,
      capabilities: [{ action: "transact", resource: "payments/eur" }],
      reason: "pay",
      durationMs: HOUR,
      pendingTtlMs: HOUR,
    },
    NOW_MS - 60_000,
  );
const approved = (grant = pending()) => decided(grant, "approve", APPROVER, NOW_MS - 30_000);
const grantRevoked = refused(
  Reason.GRANT_REVOKED,
  "a grant the token relies on was revoked or expired",
);

describe("grants step (the human-approved grants a token names, read now)", () => {
  it.each<[string, GrantRecord | undefined, unknown]>([
    ["a live approved grant", approved(), "allowed"],
    ["an unknown grant", undefined, grantRevoked],
    ["a grant still pending", pending(), grantRevoked],
    ["a denied grant", decided(pending(), "deny", APPROVER, NOW_MS - 30_000), grantRevoked],
    ["a revoked grant", revoked(approved(), NOW_MS - 1), grantRevoked],
    ["another agent's grant", approved(pending({ did: `${DID}0` })), grantRevoked],
    [
      "a grant for another audience",
      approved(pending({ audience: "https://x.example" })),
      grantRevoked,
    ],
  ])("%s", async (_case, grant, expected) => {
    const { deps } = await harness({
      grants: { get: async (id) => (id === grant?.id ? grant : undefined) },
    });
    const s = state({ claims: claims({ grants: ["g1"] }) });
    expect(await stepOutcome(grantsStep(s, deps))).toEqual(expected);
    if (expected === "allowed") expect(s.grantScopes).toEqual(["transact:payments/eur"]);
  });

  it("refuses a grant once it ended, though the token has not", async () => {
    const grant = approved();
    const { deps, clock } = await harness({ grants: { get: async () => grant } });
    clock.set(grant.expiresAt);
    const s = state({ now: grant.expiresAt / 1000, claims: claims({ grants: ["g1"] }) });
    expect(await stepOutcome(grantsStep(s, deps))).toEqual(grantRevoked);
  });

  it("answers at once for a token that names no grant", async () => {
    const { deps } = await harness();
    expect(grantsStep(state({ claims: claims() }), deps)).toBeUndefined();
  });
});
