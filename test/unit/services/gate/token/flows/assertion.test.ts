import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../../../../gen/gatehouse/v1/errors_pb.js";
import { JwtBearerGrantSchema } from "../../../../../../gen/gatehouse/v1/gate_pb.js";
import {
  generateAgentKey,
  type JwtBearerAssertionInput,
  jwtBearerAssertion,
} from "../../../../../../src/client/agent-keys.js";
import { assertionFlow } from "../../../../../../src/services/gate/token/flows/assertion.js";
import { refused, thrownOutcome } from "../../../../outcome.js";
import { AUDIENCE, call, type GateHarness, gateHarness, ISSUER, NOW_MS } from "../../fixture.js";

const NOW = NOW_MS / 1000;
const invalid = refused(Reason.ASSERTION_INVALID, "JWT assertion invalid");

type Variant = (h: GateHarness) => Promise<string>;
const signed =
  (
    changes: Partial<JwtBearerAssertionInput> = {},
    key?: ReturnType<typeof generateAgentKey>,
  ): Variant =>
  (h) =>
    jwtBearerAssertion(key ?? h.key, {
      did: h.agent.did,
      audience: ISSUER,
      lifetimeSeconds: 120,
      issuedAt: NOW,
      jti: "a1",
      ...changes,
    });

describe("assertion flow (RFC 7523 §2.1, §3): an agent-signed JWT instead of a challenge", () => {
  it.each<[string, Variant, unknown]>([
    ["a valid assertion", signed(), "allowed"],
    ["not a JWS", async () => "not.a.jws", invalid],
    ["a signature by another key", signed({}, generateAgentKey()), invalid],
    [
      "an unregistered DID",
      signed({ did: "did:agent:example.com:ffffffffffffffffffffffffffffffff" }),
      invalid,
    ],
    ["another audience", signed({ audience: `${ISSUER}/other` }), invalid],
    ["an expired assertion", signed({ issuedAt: NOW - 400, lifetimeSeconds: 300 }), invalid],
    ["an iat in the future beyond the skew", signed({ issuedAt: NOW + 31 }), invalid],
    ["a lifetime over the maximum", signed({ lifetimeSeconds: 301 }), invalid],
  ])("%s", async (_case, make, expected) => {
    const h = await gateHarness();
    const grant = create(JwtBearerGrantSchema, {
      assertion: await make(h),
      scopes: ["orders:read"],
      audience: AUDIENCE,
    });
    expect(
      await thrownOutcome(() => assertionFlow(h.deps, grant, call(undefined, h.agent.did))),
    ).toEqual(expected);
  });

  it("refuses an assertion carried by another agent's connection, and a replayed one", async () => {
    const h = await gateHarness();
    const grant = create(JwtBearerGrantSchema, {
      assertion: await signed()(h),
      scopes: ["orders:read"],
      audience: AUDIENCE,
    });
    const stranger = call(undefined, "did:agent:example.com:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    expect(await thrownOutcome(() => assertionFlow(h.deps, grant, stranger))).toEqual(
      refused(Reason.DID_MISMATCH, "DID differs from caller certificate"),
    );
    const own = call(undefined, h.agent.did);
    expect(await thrownOutcome(() => assertionFlow(h.deps, grant, own))).toBe("allowed");
    expect(await thrownOutcome(() => assertionFlow(h.deps, grant, own))).toEqual(
      refused(Reason.ASSERTION_REPLAYED, "JWT assertion already used"),
    );
  });

  it("holds the scopes and audience to the policy", async () => {
    const h = await gateHarness();
    const grant = create(JwtBearerGrantSchema, {
      assertion: await signed()(h),
      scopes: ["orders:write"],
      audience: AUDIENCE,
    });
    expect(
      await thrownOutcome(() => assertionFlow(h.deps, grant, call(undefined, h.agent.did))),
    ).toEqual(refused(Reason.SCOPE_NOT_ALLOWED, "scope outside agent policy"));
  });
});
