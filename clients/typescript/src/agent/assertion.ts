import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import type { AgentKey } from "./key.js";

export interface JwtBearerAssertionInput {
  /** The agent's DID: `iss` and `sub`. */
  readonly did: string;
  /** The Gatehouse issuer (`aud`, RFC 7523 §3 item 3). */
  readonly audience: string;
  /** `exp - iat`; the server refuses more than its configured maximum (default 300). */
  readonly lifetimeSeconds: number;
  /** Single-use id (RFC 7523 §3 item 7); a fresh random one when omitted. */
  readonly jti?: string;
  /** `iat`, Unix seconds; now when omitted. */
  readonly issuedAt?: number;
}

/**
 * Signs a JWT-bearer assertion for `TokenRequest.assertion` (RFC 7523 §2.1, §3): EdDSA with
 * the agent's key, no key in the header (the server uses the registered one). Single use.
 */
export function jwtBearerAssertion(key: AgentKey, input: JwtBearerAssertionInput): Promise<string> {
  const iat = input.issuedAt ?? Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setIssuer(input.did)
    .setSubject(input.did)
    .setAudience(input.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + input.lifetimeSeconds)
    .setJti(input.jti ?? randomBytes(32).toString("base64url"))
    .sign(key.privateKey);
}
