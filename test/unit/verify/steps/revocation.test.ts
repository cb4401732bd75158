import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { revocationStep } from "../../../../src/verify/steps/revocation.js";
import { refused, stepOutcome } from "../../outcome.js";
import { claims, DID, harness, NOW, state } from "./fixture.js";

const ACTOR = "did:agent:example.com:ffffffffffffffffffffffffffffffff";
const JKT = "j".repeat(43);
const tokenRevoked = refused(Reason.TOKEN_REVOKED, "token revoked");
const keyRevoked = refused(Reason.AGENT_KEY_REVOKED, "agent key revoked");
type Store = Awaited<ReturnType<typeof harness>>["store"];

describe("revocation step (token, lineage, key watermarks, bound key)", () => {
  it.each<[string, (store: Store) => Promise<void>, unknown]>([
    ["nothing revoked", async () => {}, "allowed"],
    ["the token's jti", (s) => s.revocations.revoke("token", "token-1"), tokenRevoked],
    ["a token it was exchanged from", (s) => s.revocations.revoke("token", "t0"), tokenRevoked],
    [
      "the subject's key, after iat",
      (s) => s.revocations.revokeIssuedUntil(DID, NOW * 1000, 1e6),
      keyRevoked,
    ],
    [
      "the subject's key, exactly at iat",
      (s) => s.revocations.revokeIssuedUntil(DID, (NOW - 60) * 1000, 1e6),
      keyRevoked,
    ],
    [
      "the subject's key, before iat",
      (s) => s.revocations.revokeIssuedUntil(DID, (NOW - 61) * 1000, 1e6),
      "allowed",
    ],
    [
      "an actor's key, after iat",
      (s) => s.revocations.revokeIssuedUntil(ACTOR, NOW * 1000, 1e6),
      keyRevoked,
    ],
    ["the bound key", (s) => s.revocations.revoke("agent_key", JKT), keyRevoked],
    // The token's own revocation is the answer before any key's.
    [
      "both token and bound key",
      async (s) => {
        await s.revocations.revoke("agent_key", JKT);
        await s.revocations.revoke("token", "token-1");
      },
      tokenRevoked,
    ],
  ])("%s", async (_case, revoke, expected) => {
    const { deps, store } = await harness();
    await revoke(store);
    const s = state({
      claims: claims({ derivedFrom: ["t0"], actors: [ACTOR] }),
      payload: { cnf: { jkt: JKT } },
    });
    expect(await stepOutcome(revocationStep(s, deps))).toEqual(expected);
  });

  it("refuses without claims (fails closed)", async () => {
    const { deps } = await harness();
    expect(await stepOutcome(revocationStep(state(), deps))).toEqual(
      refused(Reason.TOKEN_CLAIMS_INVALID, "token claims invalid"),
    );
  });
});
