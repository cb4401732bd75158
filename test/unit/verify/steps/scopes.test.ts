import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { PolicyRecord } from "../../../../src/store/ports.js";
import { scopesStep } from "../../../../src/verify/steps/scopes.js";
import { refused, stepOutcome } from "../../outcome.js";
import { AUDIENCE, agentRecord, claims, input, policy, state } from "./fixture.js";

const notAllowed = refused(Reason.SCOPE_NOT_ALLOWED, "scope outside agent policy");
const insufficient = refused(Reason.INSUFFICIENT_SCOPE, "insufficient scope");
const PAY = "transact:payments/eur";

describe("scopes step (RFC 6750 §3.1, and the agent's policy now)", () => {
  it.each<[string, string[], string[], Partial<PolicyRecord>, string[] | undefined, unknown]>([
    [
      "a required scope the token carries and the policy allows",
      ["orders:read"],
      ["orders:read"],
      {},
      undefined,
      "allowed",
    ],
    ["no required scope", ["orders:read"], [], {}, undefined, "allowed"],
    [
      "a required scope the token lacks",
      ["orders:read"],
      ["orders:write"],
      { scopes: ["orders:read", "orders:write"] },
      undefined,
      insufficient,
    ],
    [
      "a scope the policy dropped since",
      ["orders:read"],
      ["orders:read"],
      { scopes: [] },
      undefined,
      notAllowed,
    ],
    [
      "a standing capability",
      [PAY],
      [PAY],
      { scopes: [], capabilities: [{ action: "transact", resource: "payments/eur" }] },
      undefined,
      "allowed",
    ],
    [
      "a custom capability",
      ["refund"],
      ["refund"],
      { scopes: [], capabilities: [{ action: "custom", name: "refund" }] },
      undefined,
      "allowed",
    ],
    ["a live grant's scope", [PAY], [PAY], { scopes: [] }, [PAY], "allowed"],
    ["a grant scope no live grant backs", [PAY], [PAY], { scopes: [] }, [], notAllowed],
    [
      "an audience the policy dropped",
      ["orders:read"],
      ["orders:read"],
      { audiences: ["https://other.example"] },
      undefined,
      refused(Reason.AUDIENCE_NOT_ALLOWED, "audience outside agent policy"),
    ],
  ])("%s", async (_case, carried, required, changes, grantScopes, expected) => {
    const s = state({
      claims: claims({ scopes: carried }),
      input: input({ audience: AUDIENCE, requiredScopes: required }),
      agent: agentRecord({ policy: policy(changes) }),
      ...(grantScopes !== undefined && { grantScopes }),
    });
    expect(await stepOutcome(scopesStep(s))).toEqual(expected);
  });

  it("refuses without the agent the status step sets (fails closed)", async () => {
    const s = state({ claims: claims() });
    expect(await stepOutcome(scopesStep(s))).toEqual(
      refused(Reason.AGENT_NOT_FOUND, "agent not found"),
    );
  });
});
