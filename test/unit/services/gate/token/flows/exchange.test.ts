import { generateKeyPairSync } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../../../../gen/gatehouse/v1/errors_pb.js";
import { TokenExchangeGrantSchema } from "../../../../../../gen/gatehouse/v1/gate_pb.js";
import { signAccessToken } from "../../../../../../src/crypto/jws.js";
import type { GateDeps } from "../../../../../../src/services/gate/deps.js";
import { exchangeFlow } from "../../../../../../src/services/gate/token/flows/exchange.js";
import type { VerifyDeps } from "../../../../../../src/verify/types.js";
import { refused, thrownOutcome } from "../../../../outcome.js";
import { dpopAnswering, keyRing, policy } from "../../../../verify/steps/fixture.js";
import { AUDIENCE, call, gateHarness, ISSUER, NOW_MS, OPERATOR } from "../../fixture.js";

const NOW = NOW_MS / 1000;

/** A gate whose Verify pipeline trusts one signing key, and a subject token it signed. */
async function exchange() {
  const h = await gateHarness({}, { policy: policy({ scopes: ["orders:read", "orders:write"] }) });
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const verify: VerifyDeps = {
    settings: {
      issuer: ISSUER,
      clockSkewSeconds: 30,
      maxTokenTtlSeconds: 3600,
      maxCacheTtlSeconds: 30,
    },
    clock: h.clock,
    keys: keyRing([{ kid: "k1", alg: "EdDSA", publicKey, jwk: {} }]),
    registry: h.store.registry,
    revocations: h.store.revocations,
    dpop: dpopAnswering({ ok: false, reason: Reason.DPOP_INVALID }),
    envelopes: h.store.envelopes,
    rateLimits: h.store.rateLimits,
    grants: h.store.grants,
  };
  const deps = { ...h.deps, verify } as GateDeps;
  const subjectToken = await signAccessToken(
    { kid: "k1", alg: "EdDSA", privateKey },
    {
      iss: ISSUER,
      sub: h.agent.did,
      aud: AUDIENCE,
      scope: "orders:read orders:write",
      operator: OPERATOR,
      iat: NOW - 10,
      nbf: NOW - 10,
      exp: NOW + 290,
      jti: "subject-1",
    },
  );
  const run = (
    changes: Parameters<typeof create<typeof TokenExchangeGrantSchema>>[1] = {},
    did = h.agent.did,
  ) =>
    exchangeFlow(
      deps,
      create(TokenExchangeGrantSchema, { subjectToken, scopes: ["orders:read"], ...changes }),
      call(undefined, did),
      undefined,
    );
  return { h, run };
}

describe("exchange flow (RFC 8693 §2.1): scopes only shrink, lifetime only shortens", () => {
  it("narrows a token for its holder, keeping its lineage and end", async () => {
    const { run } = await exchange();
    const outcome = await run();
    expect(outcome).toMatchObject({
      scopes: ["orders:read"],
      audience: AUDIENCE,
      notAfter: NOW + 290,
      derivedFrom: ["subject-1"],
      authority: { grantIds: [] },
    });
    expect(outcome.act).toBeUndefined();
  });

  it.each<
    [
      string,
      Parameters<Awaited<ReturnType<typeof exchange>>["run"]>[0],
      string | undefined,
      unknown,
    ]
  >([
    [
      "a wider scope than the subject token's",
      { scopes: ["orders:admin"] },
      undefined,
      refused(Reason.SCOPE_NOT_ALLOWED, "scope outside agent policy"),
    ],
    [
      "an audience the subject token lacks",
      { audience: "https://other.example" },
      undefined,
      refused(Reason.AUDIENCE_NOT_ALLOWED, "audience outside agent policy"),
    ],
    [
      "a caller that does not hold the token",
      {},
      "did:agent:example.com:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
      refused(Reason.DID_MISMATCH, "DID differs from caller certificate"),
    ],
    [
      "a subject token that is not a JWS",
      { subjectToken: "not-a-token" },
      undefined,
      refused(Reason.TOKEN_MALFORMED, "token malformed"),
    ],
    [
      "a delegate the policy does not name",
      { delegateDid: "did:agent:example.com:dddddddddddddddddddddddddddddddd" },
      undefined,
      refused(Reason.DELEGATION_NOT_ALLOWED, "policy does not allow this delegation"),
    ],
  ])("refuses %s", async (_case, changes, did, expected) => {
    const { run } = await exchange();
    expect(await thrownOutcome(() => run(changes, did))).toEqual(expected);
  });

  it("refuses a revoked subject token and one whose time is up", async () => {
    const { h, run } = await exchange();
    await h.store.revocations.revoke("token", "subject-1");
    expect(await thrownOutcome(() => run())).toEqual(
      refused(Reason.TOKEN_REVOKED, "token revoked"),
    );
    const late = await exchange();
    late.h.clock.advance(290_000);
    expect(await thrownOutcome(() => late.run())).toEqual(
      refused(Reason.TOKEN_EXPIRED, "token expired"),
    );
  });
});
