import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { AgentStatus, OperatorStatus } from "../../../../src/store/ports.js";
import { agentStatusStep } from "../../../../src/verify/steps/agent-status.js";
import { refused, stepOutcome } from "../../outcome.js";
import { agentRecord, claims, harness, NOW_MS, OPERATOR, state } from "./fixture.js";

const ACTOR = "did:agent:example.com:ffffffffffffffffffffffffffffffff";

describe("agent-status step (subject, actors and their operators, read now)", () => {
  it.each<[string, AgentStatus, AgentStatus, OperatorStatus | "none", unknown]>([
    ["all active", "active", "active", "active", "allowed"],
    [
      "a suspended subject",
      "suspended",
      "active",
      "active",
      refused(Reason.AGENT_SUSPENDED, "agent suspended"),
    ],
    [
      "a revoked subject",
      "revoked",
      "active",
      "active",
      refused(Reason.AGENT_REVOKED, "agent revoked"),
    ],
    [
      "a deleted subject",
      "deleted",
      "active",
      "active",
      refused(Reason.AGENT_REVOKED, "agent revoked"),
    ],
    [
      "a suspended actor",
      "active",
      "suspended",
      "active",
      refused(Reason.AGENT_SUSPENDED, "agent suspended"),
    ],
    [
      "a revoked operator",
      "active",
      "active",
      "revoked",
      refused(Reason.OPERATOR_REVOKED, "operator revoked"),
    ],
    [
      "a suspended operator",
      "active",
      "active",
      "suspended",
      refused(Reason.OPERATOR_SUSPENDED, "operator suspended"),
    ],
  ])("%s", async (_case, subject, actor, operator, expected) => {
    const { deps, store } = await harness();
    await store.registry.createAgent(agentRecord({ status: subject }));
    await store.registry.createAgent(
      agentRecord({ did: ACTOR, status: actor, publicKeyHex: "22".repeat(32) }),
    );
    if (operator !== "active" && operator !== "none") {
      await store.registry.setOperatorStatus(OPERATOR, operator);
    }
    const s = state({ claims: claims({ actors: [ACTOR] }) });
    expect(await stepOutcome(agentStatusStep(s, deps))).toEqual(expected);
  });

  it("refuses an unknown subject, and one of another operator than the token names", async () => {
    const { deps, store } = await harness();
    const s = state({ claims: claims() });
    expect(await stepOutcome(agentStatusStep(s, deps))).toEqual(
      refused(Reason.AGENT_NOT_FOUND, "agent not found"),
    );
    await store.registry.createAgent(agentRecord());
    const other = state({ claims: claims({ operator: "other.example" }) });
    expect(await stepOutcome(agentStatusStep(other, deps))).toEqual(
      refused(Reason.AGENT_NOT_FOUND, "agent not found"),
    );
  });

  it("refuses an agent whose operator is gone", async () => {
    const { deps, store } = await harness();
    await store.registry.createAgent(agentRecord({ operatorDomain: "gone.example" }));
    const s = state({ claims: claims({ operator: "gone.example" }) });
    expect(await stepOutcome(agentStatusStep(s, deps))).toEqual(
      refused(Reason.OPERATOR_NOT_FOUND, "operator not found"),
    );
  });

  it("sets the subject's current record for the later steps", async () => {
    const { deps, store } = await harness();
    await store.registry.createAgent(agentRecord({ updatedAt: NOW_MS }));
    const s = state({ claims: claims() });
    expect(await stepOutcome(agentStatusStep(s, deps))).toBe("allowed");
    expect(s.agent?.updatedAt).toBe(NOW_MS);
  });
});
