import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { ed25519Thumbprint } from "../../../src/crypto/jose/thumbprint.js";
import type { Caller } from "../../../src/identity/caller.js";
import {
  prefetchCallerAgent,
  prefetchCallerStanding,
  requireActiveAgent,
  type StandingReads,
} from "../../../src/services/agents.js";
import type { AgentRecord, OperatorRecord, RevocationKind } from "../../../src/store/ports.js";
import { refused, thrownOutcome } from "../outcome.js";
import { agentRecord, NOW_MS } from "../verify/steps/fixture.js";

const OWN = "did:agent:example.com:own";
const agent = (did: string) => ({ did }) as AgentRecord;

/** A registry that records which DIDs were read, and fails on `failing`. */
function registry(failing?: string) {
  const reads: string[] = [];
  return {
    reads,
    getAgent: async (did: string) => {
      reads.push(did);
      if (did === failing) throw new Error("store down");
      return agent(did);
    },
  };
}

const caller = (role: NonNullable<Caller["role"]>, did = OWN): Caller => ({
  fingerprint: "f",
  uris: [],
  role,
  did,
});

describe("prefetchCallerAgent", () => {
  it("asks for an agent caller's own record at once, and answers it from that one read", async () => {
    const store = registry();
    const read = prefetchCallerAgent(store, caller("agent"));
    expect(store.reads).toEqual([OWN]);
    await expect(read(OWN)).resolves.toEqual(agent(OWN));
    await expect(read(OWN)).resolves.toEqual(agent(OWN));
    expect(store.reads).toEqual([OWN]);
  });

  it("reads any other DID when asked", async () => {
    const store = registry();
    const read = prefetchCallerAgent(store, caller("agent"));
    await expect(read("did:agent:example.com:other")).resolves.toEqual(
      agent("did:agent:example.com:other"),
    );
    expect(store.reads).toEqual([OWN, "did:agent:example.com:other"]);
  });

  it("prefetches nothing for a claimant, whose DID is not proven yet", async () => {
    const store = registry();
    const read = prefetchCallerAgent(store, caller("claimant"));
    expect(store.reads).toEqual([]);
    await read(OWN);
    expect(store.reads).toEqual([OWN]);
  });

  it("surfaces a failed prefetch where it is used, and nowhere when unused", async () => {
    const read = prefetchCallerAgent(registry(OWN), caller("agent"));
    await expect(read(OWN)).rejects.toThrow("store down");
    // Unused: no unhandled rejection (vitest fails the run on one).
    prefetchCallerAgent(registry(OWN), caller("agent"));
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});

/** A store of one agent's standing that records every read, in order. */
function standingStore(current: AgentRecord, suspended: ReadonlySet<string> = new Set()) {
  const reads: string[] = [];
  const store: StandingReads = {
    registry: {
      getAgent: async (did) => {
        reads.push(`agent ${did}`);
        return current;
      },
      getOperator: async (domain) => {
        reads.push(`operator ${domain}`);
        const status = suspended.has(domain) ? "suspended" : "active";
        return { domain, displayName: domain, status, createdAt: 0 } as OperatorRecord;
      },
    },
    revocations: {
      isRevoked: async (kind: RevocationKind, id: string) => {
        reads.push(`${kind} ${id}`);
        return false;
      },
    },
  };
  return { reads, store };
}

/** Verify's look-up cache as the prefetch sees it: `seen` answered at once, or a miss. */
const verifyCache = (seen: AgentRecord | Promise<AgentRecord | undefined> | undefined) => ({
  registry: { getAgent: () => seen, getOperator: () => undefined },
});

const thumbprintOf = (agent: AgentRecord) =>
  ed25519Thumbprint(Buffer.from(agent.publicKeyHex, "hex"));

describe("prefetchCallerStanding", () => {
  const seen = agentRecord({ did: OWN, operatorDomain: "example.com" });

  it("sends the operator and key-revocation reads at once, and answers requireActiveAgent from them", async () => {
    const { reads, store } = standingStore(seen);
    const standing = prefetchCallerStanding(store, verifyCache(seen), caller("agent"), NOW_MS);
    // Sent before the agent is read: they travel with the call's first store command.
    expect(reads).toEqual(["operator example.com", `agent_key ${thumbprintOf(seen)}`]);
    await expect(requireActiveAgent(standing, OWN)).resolves.toEqual(seen);
    expect(reads).toEqual([
      "operator example.com",
      `agent_key ${thumbprintOf(seen)}`,
      `agent ${OWN}`,
    ]);
  });

  it("reads again, from the store, an operator and a key the agent no longer names", async () => {
    const moved = agentRecord({
      did: OWN,
      operatorDomain: "example.org",
      publicKeyHex: "22".repeat(32),
    });
    const { reads, store } = standingStore(moved, new Set(["example.org"]));
    const standing = prefetchCallerStanding(store, verifyCache(seen), caller("agent"), NOW_MS);
    // The operator the agent names now is suspended: its fresh read decides.
    expect(await thrownOutcome(() => requireActiveAgent(standing, OWN))).toEqual(
      refused(Reason.OPERATOR_SUSPENDED, "operator suspended"),
    );
    expect(reads.slice(2)).toEqual([
      `agent ${OWN}`,
      "operator example.org",
      `agent_key ${thumbprintOf(moved)}`,
    ]);
  });

  it("prefetches nothing on a cache miss, nor for a claimant or an agent without a DID", () => {
    for (const [who, cache] of [
      [caller("agent"), verifyCache(undefined)],
      [caller("agent"), verifyCache(Promise.resolve(seen))],
      // A miss whose load fails: observed, never an unhandled rejection (vitest fails on one).
      [caller("agent"), verifyCache(Promise.reject(new Error("store down")))],
      [caller("claimant"), verifyCache(seen)],
      [{ fingerprint: "f", uris: [], role: "agent" } as Caller, verifyCache(seen)],
    ] as const) {
      const { reads, store } = standingStore(seen);
      expect(prefetchCallerStanding(store, cache, who, NOW_MS)).toBe(store);
      expect(reads).toEqual([]);
    }
  });
});
