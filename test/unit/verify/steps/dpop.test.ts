import { describe, expect, it } from "vitest";
import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { DpopResult } from "../../../../src/dpop/index.js";
import { dpopStep } from "../../../../src/verify/steps/dpop.js";
import { refused, stepOutcome } from "../../outcome.js";
import { dpopAnswering, harness, input, state } from "./fixture.js";

const JKT = "j".repeat(43);
const bound = { cnf: { jkt: JKT } };
const invalid = refused(Reason.DPOP_INVALID, "DPoP proof invalid");

describe("DPoP step (RFC 9449 §7.1, §7.2)", () => {
  it.each<[string, Record<string, unknown>, Parameters<typeof input>[0], DpopResult, unknown]>([
    ["a bearer token, no proof", {}, {}, { ok: false, reason: Reason.DPOP_INVALID }, "allowed"],
    [
      "a bearer token with a proof (ignored)",
      {},
      { dpopProof: "p" },
      { ok: false, reason: Reason.DPOP_INVALID },
      "allowed",
    ],
    [
      "a bound token without a proof",
      bound,
      {},
      { ok: true, jkt: JKT },
      refused(Reason.TOKEN_BOUND_TO_KEY, "token is bound to a key: present it with a DPoP proof"),
    ],
    [
      "a bound token with a valid proof",
      bound,
      { dpopProof: "p" },
      { ok: true, jkt: JKT },
      "allowed",
    ],
    [
      "a bound token with a refused proof",
      bound,
      { dpopProof: "p" },
      { ok: false, reason: Reason.DPOP_INVALID },
      invalid,
    ],
    [
      "a bound token with a replayed proof",
      bound,
      { dpopProof: "p" },
      { ok: false, reason: Reason.DPOP_REPLAYED },
      refused(Reason.DPOP_REPLAYED, "DPoP proof replayed"),
    ],
    [
      "cnf without jkt",
      { cnf: { "x5t#S256": "x" } },
      { dpopProof: "p" },
      { ok: true, jkt: JKT },
      refused(Reason.TOKEN_CLAIMS_INVALID, "token claims invalid"),
    ],
    [
      "an overlong jkt",
      { cnf: { jkt: "j".repeat(129) } },
      { dpopProof: "p" },
      { ok: true, jkt: JKT },
      refused(Reason.TOKEN_CLAIMS_INVALID, "token claims invalid"),
    ],
    [
      "a key proven on the token request (exchange)",
      bound,
      { provenJkt: JKT },
      { ok: false, reason: Reason.DPOP_INVALID },
      "allowed",
    ],
    [
      "another key proven on the token request",
      bound,
      { provenJkt: "k".repeat(43) },
      { ok: true, jkt: JKT },
      invalid,
    ],
  ])("%s", async (_case, payload, request, result, expected) => {
    const dpop = dpopAnswering(result);
    const { deps } = await harness({ dpop });
    const s = state({ payload, input: input(request) });
    expect(await stepOutcome(dpopStep(s, deps))).toEqual(expected);
  });

  it("asks for a proof of this request, by the bound key, over this token", async () => {
    const dpop = dpopAnswering({ ok: true, jkt: JKT });
    const { deps } = await harness({ dpop });
    const request = input({
      dpopProof: "p",
      httpMethod: "GET",
      httpUrl: "https://api.example.com/o",
    });
    await dpopStep(state({ payload: bound, input: request }), deps);
    expect(dpop.asked).toEqual([
      {
        proof: "p",
        method: "GET",
        url: "https://api.example.com/o",
        accessToken: request.token,
        expectedJkt: JKT,
      },
    ]);
  });

  it("marks a failure by the bound key's holder, and only that one", async () => {
    for (const byKeyHolder of [true, undefined] as const) {
      const result: DpopResult = {
        ok: false,
        reason: Reason.DPOP_INVALID,
        ...(byKeyHolder && { byKeyHolder }),
      };
      const { deps } = await harness({ dpop: dpopAnswering(result) });
      const s = state({ payload: bound, input: input({ dpopProof: "p" }) });
      expect(await stepOutcome(dpopStep(s, deps))).toEqual(invalid);
      expect(s.keyHolderProofFailed).toBe(byKeyHolder);
    }
  });
});
