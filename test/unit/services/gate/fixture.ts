import { create } from "@bufbuild/protobuf";
import { ChallengeKind, SubmitRequestSchema } from "../../../../gen/gatehouse/v1/gate_pb.js";
import type { ChallengeKindPlugin, ChallengeRecord } from "../../../../src/challenges/types.js";
import { type AgentKey, agentDid, generateAgentKey } from "../../../../src/client/agent-keys.js";
import { createManualClock, type ManualClock } from "../../../../src/clock.js";
import type { GateDeps } from "../../../../src/services/gate/deps.js";
import type { SubmitContext } from "../../../../src/services/gate/submit-steps/index.js";
import type { CallContext } from "../../../../src/services/types.js";
import { createMemoryStore } from "../../../../src/store/memory/index.js";
import type { AgentRecord, Store } from "../../../../src/store/ports.js";
import { AUDIENCE, agentRecord, ISSUER, NOW_MS, OPERATOR } from "../../verify/steps/fixture.js";

export { AUDIENCE, ISSUER, NOW_MS, OPERATOR };

export const FINGERPRINT = "ab".repeat(32);
export const CHALLENGE_ID = "C".repeat(43);

export function call(fingerprint = FINGERPRINT, did?: string): CallContext {
  return {
    caller: { fingerprint, uris: [], role: "agent", ...(did !== undefined && { did }) },
    peerAddress: "127.0.0.1",
    signal: new AbortController().signal,
  };
}

/** A signature-kind plugin that accepts the answer `ok` (the real kinds have their own tests). */
export const SIGNATURE_KIND: ChallengeKindPlugin<"signature"> = {
  kind: ChallengeKind.SIGNATURE,
  answerCase: "signature",
  issue: () => Promise.reject(new Error("not used")),
  verify: async (_context, answer) => Buffer.from(answer.signature).toString() === "ok",
};

export interface GateHarness {
  readonly clock: ManualClock;
  readonly store: Store;
  readonly deps: GateDeps;
  readonly key: AgentKey;
  readonly agent: AgentRecord;
}

/** Gate deps over an in-memory store holding one active agent (its key: `key`). */
export async function gateHarness(
  changes: Partial<GateDeps> = {},
  agentChanges: Partial<AgentRecord> = {},
): Promise<GateHarness> {
  const clock = createManualClock(NOW_MS);
  const store = await createMemoryStore({ clock });
  const key = generateAgentKey();
  await store.registry.createOperator({
    domain: OPERATOR,
    displayName: "Example",
    status: "active",
    createdAt: NOW_MS - 86_400_000,
  });
  const agent = agentRecord({
    did: agentDid(key, OPERATOR),
    publicKeyHex: Buffer.from(key.publicKey).toString("hex"),
    ...agentChanges,
  });
  await store.registry.createAgent(agent);
  const deps = {
    settings: {
      issuer: ISSUER,
      publicUrl: ISSUER,
      challengeTtlSeconds: 60,
      passTtlSeconds: 60,
      defaultTokenTtlSeconds: 300,
      maxTokenTtlSeconds: 3600,
      clockSkewSeconds: 30,
      assertionMaxLifetimeSeconds: 300,
      runtime: {
        toleranceMs: 1_000,
        bounds: new Map([[ChallengeKind.SIGNATURE, { minMs: 0, maxMs: 10_000 }]]),
      },
    },
    store,
    clock,
    kinds: new Map([[ChallengeKind.SIGNATURE, SIGNATURE_KIND]]),
    ...changes,
  };
  // Only what the submit steps and token flows under test read; the rest is never touched.
  return { clock, store, deps: deps as unknown as GateDeps, key, agent };
}

export function challengeRecord(agent: AgentRecord, changes: Partial<ChallengeRecord> = {}) {
  return {
    kind: ChallengeKind.SIGNATURE,
    did: agent.did,
    caller: FINGERPRINT,
    scopes: ["orders:read"],
    audience: AUDIENCE,
    issuedAt: NOW_MS - 2_000,
    expiresAt: NOW_MS + 58_000,
    state: {},
    ...changes,
  } satisfies ChallengeRecord;
}

/** A submission of `ok` (the fake kind's right answer) within the deadline, by its caller. */
export function submission(
  h: GateHarness,
  request: Parameters<typeof create<typeof SubmitRequestSchema>>[1] = {},
  record: Partial<ChallengeRecord> = {},
  context: Partial<SubmitContext> = {},
): SubmitContext {
  return {
    deps: h.deps,
    request: create(SubmitRequestSchema, {
      challengeId: CHALLENGE_ID,
      answer: { case: "signature", value: { signature: Buffer.from("ok") } },
      runtimeMs: 1_000,
      ...request,
    }),
    call: call(),
    record: challengeRecord(h.agent, record),
    now: NOW_MS,
    readAgent: (did) => h.deps.store.registry.getAgent(did),
    ...context,
  };
}
