import { randomBytes, sign } from "node:crypto";
import { accessTokenHash } from "../../../../src/dpop/ath.js";
import type { AgentKey } from "./key.js";

export interface DpopProofInput {
  /** The request's HTTP method. */
  readonly htm: string;
  /** The request URL without query and fragment (RFC 9449 §4.2; see `htuOf`). */
  readonly htu: string;
  /** The access token sent with the request: adds `ath` (RFC 9449 §4.2). */
  readonly accessToken?: string;
  /** The server's last `DPoP-Nonce` (RFC 9449 §8). */
  readonly nonce?: string;
  /** Unique per proof; a fresh random one when omitted. */
  readonly jti?: string;
  /** `iat`, Unix seconds; now when omitted. */
  readonly iat?: number;
}

/**
 * A DPoP proof (RFC 9449 §4.2) signed with the agent's Ed25519 key: `typ` `dpop+jwt`,
 * `alg` EdDSA, the public key as `jwk`. One proof per request: never reuse it.
 */
export function dpopProof(key: AgentKey, input: DpopProofInput): string {
  const x = Buffer.from(key.publicKey).toString("base64url");
  const header = { typ: "dpop+jwt", alg: "EdDSA", jwk: { kty: "OKP", crv: "Ed25519", x } };
  const claims = {
    jti: input.jti ?? randomBytes(16).toString("base64url"),
    htm: input.htm,
    htu: input.htu,
    iat: input.iat ?? Math.floor(Date.now() / 1000),
    ...(input.accessToken !== undefined && { ath: accessTokenHash(input.accessToken) }),
    ...(input.nonce !== undefined && { nonce: input.nonce }),
  };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signingInput = `${encode(header)}.${encode(claims)}`;
  const signature = sign(null, Buffer.from(signingInput, "ascii"), key.privateKey);
  return `${signingInput}.${signature.toString("base64url")}`;
}

/** `htu` for a request URL: the target URI without query and fragment (RFC 9449 §4.2). */
export function htuOf(url: string | URL): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
