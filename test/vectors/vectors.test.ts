import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { verifyEd25519 } from "../../src/crypto/ed25519.js";
import { verifyJwsSignature } from "../../src/crypto/jose/signature.js";
import {
  ed25519Thumbprint,
  ed25519ThumbprintOfHex,
  jwkThumbprint,
} from "../../src/crypto/jose/thumbprint.js";
import { accessTokenHash, parseProof } from "../../src/dpop/index.js";

/** Vectors are data files beside this test; README.md names the RFC section of each. */
const load = <T>(name: string) =>
  JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), "utf8")) as T;

type Jwk = { kty: string; crv: string; x: string; [member: string]: string };
interface Rfc7638 {
  readonly jwk: Jwk;
  readonly thumbprint: string;
}
interface Rfc8037 {
  readonly privateJwk: Jwk;
  readonly publicJwk: Jwk;
  readonly thumbprint: string;
  readonly signing: { protectedHeader: Jwk; payload: string; jws: string };
}
interface Rfc9449 {
  readonly proofHeader: { typ: string; alg: string; jwk: Jwk };
  readonly proofClaims: Record<string, string | number>;
  readonly jkt: string;
  readonly accessToken: string;
  readonly ath: string;
}
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("RFC 7638 §3.1: JWK thumbprint", () => {
  const vector = load<Rfc7638>("rfc7638-thumbprint.json");
  it("computes the RSA example's thumbprint (ignoring alg and kid, §3.2)", () => {
    expect(jwkThumbprint(vector.jwk)).toBe(vector.thumbprint);
  });
  it("is order-independent and undefined without a required member", () => {
    const { n, e } = vector.jwk;
    expect(jwkThumbprint({ n, kty: "RSA", e })).toBe(vector.thumbprint);
    expect(jwkThumbprint({ kty: "RSA", n })).toBeUndefined();
    expect(jwkThumbprint({ kty: "oct", k: "AAAA" })).toBeUndefined();
  });
});

describe("RFC 8037 Appendix A: Ed25519", () => {
  const vector = load<Rfc8037>("rfc8037-ed25519.json");
  const publicKey = Buffer.from(vector.publicJwk.x, "base64url");
  const [header, payload, signature] = vector.signing.jws.split(".") as [string, string, string];

  it("A.3: the OKP thumbprint, from the JWK and from the raw key", () => {
    expect(jwkThumbprint(vector.publicJwk)).toBe(vector.thumbprint);
    expect(jwkThumbprint(vector.privateJwk)).toBe(vector.thumbprint); // `d` is not hashed
    expect(ed25519Thumbprint(publicKey)).toBe(vector.thumbprint);
    // From hex, memoized: the first call computes, the second answers from the memo.
    expect(ed25519ThumbprintOfHex(publicKey.toString("hex"))).toBe(vector.thumbprint);
    expect(ed25519ThumbprintOfHex(publicKey.toString("hex"))).toBe(vector.thumbprint);
  });

  it("A.4: the JWS parts are the encoded header and payload", () => {
    expect(header).toBe(b64(vector.signing.protectedHeader));
    expect(Buffer.from(payload, "base64url").toString("utf8")).toBe(vector.signing.payload);
  });

  it("A.4: the signature verifies through our node:crypto paths", () => {
    const input = Buffer.from(`${header}.${payload}`, "ascii");
    const sig = Buffer.from(signature, "base64url");
    expect(verifyEd25519(publicKey, input, sig)).toBe(true);
    const keyObject = createPrivateKey({ key: vector.privateJwk, format: "jwk" });
    expect(verifyJwsSignature("EdDSA", keyObject, input, sig)).toBe(true);
    const tampered = Buffer.from(`${header}.${b64("Example of Ed25519 signinG")}`, "ascii");
    expect(verifyEd25519(publicKey, tampered, sig)).toBe(false);
  });

  it("A.4: signing with the A.1 private key reproduces the signature (deterministic)", () => {
    const keyObject = createPrivateKey({ key: vector.privateJwk, format: "jwk" });
    const input = Buffer.from(`${header}.${payload}`, "ascii");
    expect(sign(null, input, keyObject).toString("base64url")).toBe(signature);
  });
});

describe("RFC 9449: DPoP examples", () => {
  const vector = load<Rfc9449>("rfc9449-dpop.json");

  it("§6.1: the jkt of the §4.2 proof key", () => {
    expect(jwkThumbprint(vector.proofHeader.jwk)).toBe(vector.jkt);
  });

  it("§7.1: ath is base64url(SHA-256(access token))", () => {
    expect(accessTokenHash(vector.accessToken)).toBe(vector.ath);
  });

  /** The §4.2 header and claims, re-signed with a fresh P-256 key (the RFC's is not given). */
  function resigned(headerChanges: Record<string, unknown> = {}) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
    const head = { ...vector.proofHeader, jwk: { kty, x, y, crv }, ...headerChanges };
    const input = `${b64(head)}.${b64(vector.proofClaims)}`;
    const sig = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
    return {
      proof: `${input}.${sig.toString("base64url")}`,
      jkt: jwkThumbprint({ kty, crv, x, y }),
    };
  }

  it("§4.2: the example's shape parses as a valid ES256 proof", () => {
    const { proof, jkt } = resigned();
    expect(parseProof(proof)).toEqual({ ...vector.proofClaims, jkt });
  });

  it("§4.3: the same proof with another typ, or alg none, is refused", () => {
    expect(parseProof(resigned({ typ: "JWT" }).proof)).toBeUndefined();
    expect(parseProof(resigned({ alg: "none" }).proof)).toBeUndefined();
  });
});
