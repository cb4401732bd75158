import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { SignJWT } from "jose";
import type { SignatureChallenge } from "../../gen/gatehouse/v1/gate_pb.js";
import { AUTONOMY_ALG, AUTONOMY_TYP } from "../attestation/autonomy/format.js";
import { challengeSigningInput } from "../challenges/signature/signing-input.js";
import { deriveAgentDid } from "../crypto/did.js";
import { encodeDidKey } from "../crypto/did-key.js";
import { registrationSigningInput, rotationSigningInput } from "../crypto/signing-input.js";

/** An agent's Ed25519 key pair; the private key never leaves the agent. */
export interface AgentKey {
  readonly privateKey: KeyObject;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
}

export function generateAgentKey(): AgentKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  return { privateKey, publicKey: Buffer.from(jwk.x ?? "", "base64url") };
}

export function agentKeyFromPem(pem: string): AgentKey {
  const privateKey = createPrivateKey(pem);
  const jwk = privateKey.export({ format: "jwk" });
  return { privateKey, publicKey: Buffer.from(jwk.x ?? "", "base64url") };
}

export function agentDid(key: AgentKey, operatorDomain: string): string {
  return deriveAgentDid(operatorDomain, key.publicKey);
}

/** The agent's `did:key` (Ed25519): registrable instead of its did:agent DID. */
export function agentDidKey(key: AgentKey): string {
  return encodeDidKey(key.publicKey);
}

/** The two signatures RotateAgentKey requires: by the current key and by the new key. */
export function rotationSignatures(
  currentKey: AgentKey,
  newKey: AgentKey,
  did: string,
  operatorDomain: string,
): { currentKeySignature: Uint8Array; newKeyProof: Uint8Array } {
  const input = rotationSigningInput(did, currentKey.publicKey, newKey.publicKey, operatorDomain);
  return {
    currentKeySignature: sign(null, input, currentKey.privateKey),
    newKeyProof: sign(null, input, newKey.privateKey),
  };
}

/** The proof of possession RegisterAgent requires. */
export function proofOfPossession(key: AgentKey, did: string, operatorDomain: string): Uint8Array {
  return sign(null, registrationSigningInput(did, key.publicKey, operatorDomain), key.privateKey);
}

export interface ExpectedChallenge {
  readonly challengeId: string;
  readonly did: string;
  readonly scopes: readonly string[];
  readonly audience: string;
  readonly expiresAtMs: number;
}

/**
 * Signs a signature challenge only after rebuilding its signing input from what the agent
 * asked for: an agent must never sign bytes it did not check.
 */
export function signChallenge(
  key: AgentKey,
  challenge: SignatureChallenge,
  expected: ExpectedChallenge,
): Uint8Array {
  const rebuilt = challengeSigningInput({
    ...expected,
    issuer: challenge.issuer,
    caller: challenge.caller,
    expiresAt: expected.expiresAtMs,
  });
  if (!Buffer.from(rebuilt).equals(Buffer.from(challenge.signingInput))) {
    throw new Error("challenge signing input does not match the request; refusing to sign");
  }
  return sign(null, rebuilt, key.privateKey);
}

export interface AutonomyAttestationInput {
  readonly did: string;
  /** The challenge being answered (the `nonce` claim). */
  readonly challengeId: string;
  readonly operationSeconds: number;
  readonly autonomousActions: number;
  /** base64url SHA-256 of the agent's decision chain (43 characters). */
  readonly decisionChain: string;
  /** Unix seconds. */
  readonly iat: number;
}

/** Signs an autonomy attestation for `SubmitRequest.autonomy_attestation` (compact JWS). */
export function autonomyAttestation(
  key: AgentKey,
  input: AutonomyAttestationInput,
): Promise<string> {
  return new SignJWT({
    nonce: input.challengeId,
    operation_seconds: input.operationSeconds,
    autonomous_actions: input.autonomousActions,
    decision_chain: input.decisionChain,
  })
    .setProtectedHeader({ alg: AUTONOMY_ALG, typ: AUTONOMY_TYP })
    .setIssuer(input.did)
    .setSubject(input.did)
    .setIssuedAt(input.iat)
    .sign(key.privateKey);
}

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

export interface DpopProofInput {
  /** The request's HTTP method. */
  readonly htm: string;
  /** The request URL without query and fragment (RFC 9449 §4.2). */
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
    ...(input.accessToken !== undefined && {
      ath: createHash("sha256").update(input.accessToken, "ascii").digest("base64url"),
    }),
    ...(input.nonce !== undefined && { nonce: input.nonce }),
  };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signingInput = `${encode(header)}.${encode(claims)}`;
  const signature = sign(null, Buffer.from(signingInput, "ascii"), key.privateKey);
  return `${signingInput}.${signature.toString("base64url")}`;
}
