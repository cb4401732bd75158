import { describe, expect, it } from "vitest";
import type { Caller } from "../../../../../src/identity/caller.js";
import { identitySubject } from "../../../../../src/services/gate/abuse/rate-limits.js";
import type { CallContext } from "../../../../../src/services/types.js";

const call = (caller: Caller, peerAddress: string): CallContext => ({
  caller,
  peerAddress,
  signal: new AbortController().signal,
});

describe("the identity a caller's limits count under", () => {
  const agent: Caller = { fingerprint: "a".repeat(64), uris: ["did:agent:x:1"], role: "agent" };
  const claimant: Caller = { fingerprint: "c".repeat(64), uris: [], role: "claimant", did: "d" };

  it("is a certificate's fingerprint, wherever it calls from", () => {
    expect(identitySubject(call(agent, "192.0.2.1"))).toBe(agent.fingerprint);
    expect(identitySubject(call(agent, "192.0.2.2"))).toBe(agent.fingerprint);
  });

  it("is a claimant's DID claim AND source address: one stranger fills only its own bucket", () => {
    const one = identitySubject(call(claimant, "192.0.2.1"));
    expect(one).toBe(`${claimant.fingerprint}@192.0.2.1`);
    expect(identitySubject(call(claimant, "::ffff:192.0.2.1"))).toBe(one);
    expect(identitySubject(call(claimant, "192.0.2.2"))).not.toBe(one);
    // IPv6 counts by /64, as the address limit does.
    expect(identitySubject(call(claimant, "2001:db8:0:1::5"))).toBe(
      identitySubject(call(claimant, "2001:db8:0:1::6")),
    );
  });
});
