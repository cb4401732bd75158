import { generateKeyPairSync } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { type AccessTokenClaims, signAccessToken } from "../../../src/crypto/jws.js";

const claims: AccessTokenClaims = {
  iss: "https://gatehouse.test",
  sub: "did:agent:example.com:abc",
  aud: "https://api.example.com",
  scope: "orders:read orders:write",
  operator: "example.com",
  iat: 1_700_000_000,
  nbf: 1_700_000_000,
  exp: 1_700_000_600,
  jti: "token-1",
  cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" },
};

const keyPairs = {
  EdDSA: () => generateKeyPairSync("ed25519"),
  ES256: () => generateKeyPairSync("ec", { namedCurve: "P-256" }),
} as const;

describe("signAccessToken", () => {
  for (const alg of ["EdDSA", "ES256"] as const) {
    it(`writes the header and claims jose writes, and jose verifies it (${alg})`, async () => {
      const { privateKey, publicKey } = keyPairs[alg]();
      const token = await signAccessToken({ kid: "k1", alg, privateKey }, claims);
      const reference = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg, kid: "k1", typ: "at+jwt" })
        .sign(privateKey);
      const signed = (jws: string) => jws.split(".").slice(0, 2).join(".");
      expect(signed(token)).toBe(signed(reference));
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
        typ: "at+jwt",
        currentDate: new Date(claims.iat * 1000),
      });
      expect(protectedHeader).toEqual({ alg, kid: "k1", typ: "at+jwt" });
      expect(payload).toEqual(claims);
    });
  }

  it("refuses a key of another type than the alg", async () => {
    const ed25519 = generateKeyPairSync("ed25519").privateKey;
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
    await expect(
      signAccessToken({ kid: "k", alg: "ES256", privateKey: ed25519 }, claims),
    ).rejects.toThrow();
    await expect(
      signAccessToken({ kid: "k", alg: "ES256", privateKey: p384 }, claims),
    ).rejects.toThrow();
    const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    await expect(
      signAccessToken({ kid: "k", alg: "EdDSA", privateKey: p256 }, claims),
    ).rejects.toThrow();
  });
});
