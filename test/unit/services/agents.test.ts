import { describe, expect, it } from "vitest";
import type { Caller } from "../../../src/identity/caller.js";
import { prefetchCallerAgent } from "../../../src/services/agents.js";
import type { AgentRecord } from "../../../src/store/ports.js";

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
