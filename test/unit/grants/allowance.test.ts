import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { authorizeScopes, grantLive, scopeAllowed } from "../../../src/grants/allowance.js";
import { decided, requested, revoked } from "../../../src/grants/lifecycle.js";
import type { GrantRecord } from "../../../src/store/ports.js";
import { refused, thrownOutcome } from "../outcome.js";
import { AUDIENCE, agentRecord, DID, NOW_MS, OPERATOR, policy } from "../verify/steps/fixture.js";

const HOUR = 3_600_000;
const PAY = "transact:payments/eur";
const grant = (id: string, changes: { audience?: string; durationMs?: number } = {}): GrantRecord =>
  decided(
    requested(
      {
        id,
        agent: { did: DID, operatorDomain: OPERATOR },
        audience: changes.audience ?? AUDIENCE,
        capabilities: [{ action: "transact", resource: "payments/eur" }],
        reason: "pay",
        durationMs: changes.durationMs ?? HOUR,
        pendingTtlMs: HOUR,
      },
      NOW_MS - 1_000,
    ),
    "approve",
    { id: "ap", displayName: "Ana" },
    NOW_MS - 500,
  );
const listing = (grants: GrantRecord[]) => ({ list: async () => ({ grants }) });

describe("scope allowance: one answer for Token and Verify", () => {
  it("allows a scope by the policy's scopes, its capabilities, or a live grant's scopes", () => {
    const standing = policy({
      scopes: ["orders:read"],
      capabilities: [{ action: "custom", name: "refund" }],
    });
    expect(scopeAllowed("orders:read", standing)).toBe(true);
    expect(scopeAllowed("refund", standing)).toBe(true);
    expect(scopeAllowed(PAY, standing)).toBe(false);
    expect(scopeAllowed(PAY, standing, [PAY])).toBe(true);
  });

  it("counts a grant only while approved, for this agent and one of the audiences", () => {
    const live = grant("g1");
    expect(grantLive(live, DID, [AUDIENCE], NOW_MS)).toBe(true);
    expect(grantLive(live, `${DID}0`, [AUDIENCE], NOW_MS)).toBe(false);
    expect(grantLive(live, DID, ["https://other.example"], NOW_MS)).toBe(false);
    expect(grantLive(live, DID, [AUDIENCE], live.expiresAt)).toBe(false);
    expect(grantLive(revoked(live, NOW_MS), DID, [AUDIENCE], NOW_MS)).toBe(false);
  });

  it("Token: reads no grant when the policy covers the request", async () => {
    const grants = { list: async () => Promise.reject(new Error("must not be read")) };
    const authority = await authorizeScopes(
      grants,
      agentRecord(),
      ["orders:read"],
      AUDIENCE,
      NOW_MS,
    );
    expect(authority).toEqual({ grantIds: [] });
  });

  it("Token: names the grant behind a scope and never outlives it", async () => {
    const short = grant("short", { durationMs: HOUR });
    const long = grant("long", { durationMs: 2 * HOUR });
    const authority = await authorizeScopes(
      listing([short, long]),
      agentRecord(),
      ["orders:read", PAY],
      AUDIENCE,
      NOW_MS,
    );
    expect(authority).toEqual({ grantIds: ["long"], notAfterMs: long.expiresAt });
  });

  it.each<[string, GrantRecord[], string, unknown]>([
    [
      "no grant for the scope",
      [],
      AUDIENCE,
      refused(Reason.SCOPE_NOT_ALLOWED, "scope outside agent policy"),
    ],
    [
      "a grant for another audience",
      [grant("g", { audience: "https://other.example" })],
      AUDIENCE,
      refused(Reason.SCOPE_NOT_ALLOWED, "scope outside agent policy"),
    ],
    [
      "an audience outside the policy",
      [grant("g")],
      "https://other.example",
      refused(Reason.SCOPE_NOT_ALLOWED, "scope outside agent policy"),
    ],
  ])("Token: refuses %s", async (_case, grants, audience, expected) => {
    const run = () => authorizeScopes(listing(grants), agentRecord(), [PAY], audience, NOW_MS);
    expect(await thrownOutcome(run)).toEqual(expected);
  });

  it("Token: refuses an audience outside the policy even for standing scopes", async () => {
    const run = () =>
      authorizeScopes(listing([]), agentRecord(), ["orders:read"], "https://other.example", NOW_MS);
    expect(await thrownOutcome(run)).toEqual(
      refused(Reason.AUDIENCE_NOT_ALLOWED, "audience outside agent policy"),
    );
  });
});
