import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { decided, grantState, requested, revoked } from "../../../src/grants/lifecycle.js";
import type { GrantRecord } from "../../../src/store/ports.js";
import { refused, thrownOutcome } from "../outcome.js";

const T0 = Date.UTC(2030, 0, 7, 12);
const HOUR = 3_600_000;
const APPROVER = { id: "ap1", displayName: "Ana Lima" };
const conflict = refused(Reason.GRANT_STATE_CONFLICT, "grant is not in a state that allows this");
const pending = (): GrantRecord =>
  requested(
    {
      id: "g1",
      agent: { did: "did:agent:example.com:00", operatorDomain: "example.com" },
      audience: "https://api.example.com",
      capabilities: [{ action: "transact", resource: "payments/eur" }],
      reason: "pay invoice",
      durationMs: 2 * HOUR,
      pendingTtlMs: HOUR,
    },
    T0,
  );

describe("capability grant life cycle (pure transitions)", () => {
  it("request: pending, revision 1, lapsing after the pending TTL", () => {
    const grant = pending();
    expect(grant).toMatchObject({
      state: "pending",
      createdAt: T0,
      expiresAt: T0 + HOUR,
      revision: 1,
    });
    expect(grantState(grant, T0 + HOUR - 1)).toBe("pending");
    expect(grantState(grant, T0 + HOUR)).toBe("expired");
  });

  it("approve: runs its duration from the decision, names the approver", () => {
    const grant = decided(pending(), "approve", APPROVER, T0 + 10);
    expect(grant).toMatchObject({
      state: "approved",
      expiresAt: T0 + 10 + 2 * HOUR,
      decidedAt: T0 + 10,
      decidedBy: "Ana Lima (ap1)",
      revision: 2,
    });
    expect(grantState(grant, T0 + 10 + 2 * HOUR)).toBe("expired");
  });

  it("deny: keeps the dates", () => {
    const grant = decided(pending(), "deny", APPROVER, T0 + 10);
    expect(grant).toMatchObject({ state: "denied", expiresAt: T0 + HOUR, revision: 2 });
    expect(grantState(grant, T0 + 2 * HOUR)).toBe("denied");
  });

  it("revoke: a pending or approved grant, not ended", () => {
    expect(revoked(pending(), T0 + 1)).toMatchObject({
      state: "revoked",
      revokedAt: T0 + 1,
      revision: 2,
    });
    const approved = decided(pending(), "approve", APPROVER, T0);
    expect(revoked(approved, T0 + 1).state).toBe("revoked");
  });

  it.each<[string, () => unknown]>([
    [
      "deciding a decided grant",
      () => decided(decided(pending(), "deny", APPROVER, T0), "approve", APPROVER, T0),
    ],
    ["deciding a lapsed request", () => decided(pending(), "approve", APPROVER, T0 + HOUR)],
    ["deciding a revoked grant", () => decided(revoked(pending(), T0), "approve", APPROVER, T0)],
    ["revoking a denied grant", () => revoked(decided(pending(), "deny", APPROVER, T0), T0)],
    ["revoking a revoked grant", () => revoked(revoked(pending(), T0), T0)],
    [
      "revoking an ended grant",
      () => revoked(decided(pending(), "approve", APPROVER, T0), T0 + 2 * HOUR),
    ],
  ])("refuses %s", async (_case, transition) => {
    expect(await thrownOutcome(transition)).toEqual(conflict);
  });
});
