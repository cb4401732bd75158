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

describe("DPoP verifier, each check of RFC 9449 §4.3 alone", () => {
  const clock = createManualClock(Date.UTC(2030, 0, 7));
  const now = () => Math.floor(clock.now() / 1000);
  const holder = generateAgentKey();
  const expectedJkt = ed25519Thumbprint(holder.publicKey);
  const request = { method: "GET", url: URL, accessToken: TOKEN, expectedJkt };
  const invalid = { ok: false, reason: Reason.DPOP_INVALID };
  const proof = (changes: Partial<Parameters<typeof dpopProof>[1]> = {}, key = holder) =>
    dpopProof(key, { htm: "GET", htu: URL, iat: now(), accessToken: TOKEN, ...changes });

  it.each<[string, () => string, Partial<typeof request>, unknown]>([
    ["a valid proof", () => proof(), {}, { ok: true, jkt: expectedJkt }],
    ["not a JWS", () => "a.b.c", {}, invalid],
    [
      "another key than the token's (§4.3 point 12)",
      () => proof({}, generateAgentKey()),
      {},
      invalid,
    ],
    ["another method (point 8)", () => proof({ htm: "POST" }), {}, invalid],
    ["another URL (point 9)", () => proof({ htu: `${URL}/x` }), {}, invalid],
    [
      "the URL's query is ignored (point 9)",
      () => proof(),
      { url: `${URL}?page=2` },
      { ok: true, jkt: expectedJkt },
    ],
    [
      "an ath over another token (point 11)",
      () => proof({ accessToken: "other.token.value" }),
      {},
      invalid,
    ],
    [
      "no ath with a token (point 11)",
      () => dpopProof(holder, { htm: "GET", htu: URL, iat: now() }),
      {},
      invalid,
    ],
    ["an iat older than the window (point 10)", () => proof({ iat: now() - 61 }), {}, invalid],
    ["an iat beyond the skew (point 10)", () => proof({ iat: now() + 6 }), {}, invalid],
    ["an iat within the skew", () => proof({ iat: now() + 5 }), {}, { ok: true, jkt: expectedJkt }],
  ])("%s", async (_case, make, changes, expected) => {
    const dpop = createDpopVerifier({
      clock,
      nonces: nonceSet(),
      settings: { maxAgeSeconds: 60, clockSkewSeconds: 5 },
    });
    const result = await dpop.verify(make(), { ...request, ...changes });
    expect(result.ok ? result : { ok: false, reason: result.reason }).toEqual(expected);
  });

  it("asks for a server nonce when nonces are on (§8), and accepts the one it gave", async () => {
    const dpop = createDpopVerifier({
      clock,
      nonces: nonceSet(),
      settings: { maxAgeSeconds: 60, clockSkewSeconds: 5, nonceSecret: "s".repeat(32) },
    });
    const missing = await dpop.verify(proof(), request);
    expect(missing).toMatchObject({ ok: false, reason: Reason.DPOP_NONCE_REQUIRED });
    const nonce = missing.ok ? "" : (missing.nonce ?? "");
    expect(nonce).not.toBe("");
    expect(await dpop.verify(proof({ nonce }), request)).toEqual({ ok: true, jkt: expectedJkt });
  });

  it("consumes the jti only once every other check passed (§11.1)", async () => {
    const dpop = createDpopVerifier({
      clock,
      nonces: nonceSet(),
      settings: { maxAgeSeconds: 60, clockSkewSeconds: 5 },
    });
    const jti = "same-jti";
    expect(
      await dpop.verify(proof({ jti, htm: "POST" }), {
        method: "GET",
        url: URL,
        accessToken: TOKEN,
      }),
    ).toEqual(invalid);
    expect(await dpop.verify(proof({ jti }), request)).toEqual({ ok: true, jkt: expectedJkt });
    expect(await dpop.verify(proof({ jti }), request)).toEqual({
      ok: false,
      reason: Reason.DPOP_REPLAYED,
    });
  });
});
