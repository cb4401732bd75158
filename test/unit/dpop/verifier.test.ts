import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { dpopProof, generateAgentKey } from "../../../src/client/agent-keys.js";
import { createManualClock } from "../../../src/clock.js";
import { ed25519Thumbprint } from "../../../src/crypto/jose/thumbprint.js";
import { createDpopVerifier } from "../../../src/dpop/index.js";
import type { NonceStore } from "../../../src/store/ports.js";

const URL = "https://api.example.com/orders";
const TOKEN = "header.payload.signature";

/** Single-use ids in a Set: enough for one verifier in one test. */
function nonceSet(): NonceStore {
  const seen = new Set<string>();
  return {
    useOnce: async (namespace, id) => {
      const key = `${namespace}:${id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
  };
}

describe("DPoP failures attributable to the bound key's holder (RFC 9449 §4.3)", () => {
  const clock = createManualClock(Date.UTC(2030, 0, 7));
  const now = () => Math.floor(clock.now() / 1000);
  const holder = generateAgentKey();
  const stranger = generateAgentKey();
  const expectedJkt = ed25519Thumbprint(holder.publicKey);
  const request = { method: "GET", url: URL, accessToken: TOKEN, expectedJkt };
  const verifier = () =>
    createDpopVerifier({
      clock,
      nonces: nonceSet(),
      settings: { maxAgeSeconds: 60, clockSkewSeconds: 5 },
    });
  const proof = (key = holder, changes: { htu?: string; iat?: number; jti?: string } = {}) =>
    dpopProof(key, { htm: "GET", htu: URL, iat: now(), accessToken: TOKEN, ...changes });

  it("marks a fresh proof by the bound key made for another request, once", async () => {
    const dpop = verifier();
    const wrong = proof(holder, { htu: "https://api.example.com/elsewhere" });
    expect(await dpop.verify(wrong, request)).toEqual({
      ok: false,
      reason: Reason.DPOP_INVALID,
      byKeyHolder: true,
    });
    // The same proof again is a replay, and is not the holder's doing.
    expect(await dpop.verify(wrong, request)).toEqual({ ok: false, reason: Reason.DPOP_REPLAYED });
  });

  it("never marks what anyone who saw the token or a proof can send", async () => {
    const dpop = verifier();
    const genuine = proof();
    expect((await dpop.verify(genuine, request)).ok).toBe(true);
    const [header, payload] = genuine.split(".") as [string, string];
    for (const junk of [
      proof(stranger),
      proof(stranger, { htu: "https://api.example.com/elsewhere" }),
      `${header}.${payload}.${Buffer.alloc(64).toString("base64url")}`,
      "a.b.c",
      genuine,
      proof(holder, { iat: now() - 3600 }),
      proof(holder, { iat: now() - 3600, htu: "https://api.example.com/elsewhere" }),
    ]) {
      const result = await dpop.verify(junk, request);
      expect(result.ok).toBe(false);
      expect(result.ok === false && result.byKeyHolder).toBeFalsy();
    }
  });
});
