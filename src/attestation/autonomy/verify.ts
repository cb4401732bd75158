import type { KeyObject } from "node:crypto";
import {
  decodeProtectedHeader,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from "jose";
import { AUTONOMY_ALG, AUTONOMY_TYP, type AutonomyClaims } from "./format.js";

/** What the attestation must be bound to, all from the server's own records. */
export interface AutonomyBinding {
  readonly did: string;
  /** The agent's registered Ed25519 key: the only key an attestation is checked with. */
  readonly publicKey: KeyObject;
  /** The challenge id, expected in `nonce`. */
  readonly challengeId: string;
  /** When the challenge was issued, Unix ms. */
  readonly issuedAt: number;
  /** Server time of the submission, Unix ms. */
  readonly now: number;
  readonly clockSkewSeconds: number;
}

/**
 * Header parameters an attestation may carry. Anything that names or carries a key (`jku`,
 * `jwk`, `x5u`, `x5c`, `x5t`: RFC 7515 §4.1.2–4.1.8) or demands extensions (`crit`, §4.1.11)
 * is refused: the key is never taken from the token (RFC 8725 §3.10).
 */
const ALLOWED_HEADER = new Set(["alg", "typ", "kid"]);
const DECISION_CHAIN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Verifies an autonomy attestation (format in ./format.ts). Returns its claims, or undefined
 * when it is not a valid attestation by this agent for this challenge. Never throws, and never
 * says why: the caller answers one reason, so nothing about the token reaches a log or client.
 */
export async function verifyAutonomyAttestation(
  token: string,
  binding: AutonomyBinding,
): Promise<AutonomyClaims | undefined> {
  try {
    if (!headerAcceptable(decodeProtectedHeader(token), binding.did)) return undefined;
    // RFC 7515 §5.2 with `alg` pinned (RFC 8725 §3.1: `none` and every other alg refused),
    // `typ` checked (RFC 8725 §3.11), `iss`/`sub` = the DID (RFC 7519 §4.1.1, §4.1.2), and any
    // `exp`/`nbf` honoured with the skew (RFC 7519 §4.1.4, §4.1.5).
    const { payload } = await jwtVerify(token, binding.publicKey, {
      algorithms: [AUTONOMY_ALG],
      typ: AUTONOMY_TYP,
      issuer: binding.did,
      subject: binding.did,
      currentDate: new Date(binding.now),
      clockTolerance: binding.clockSkewSeconds,
    });
    return payload.nonce === binding.challengeId && issuedWithinChallenge(payload, binding)
      ? autonomyClaims(payload)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `kid` (RFC 7515 §4.1.4), when present, may only name the agent itself. */
function headerAcceptable(header: ProtectedHeaderParameters, did: string): boolean {
  return (
    Object.keys(header).every((name) => ALLOWED_HEADER.has(name)) &&
    (header.kid === undefined || header.kid === did)
  );
}

/**
 * `iat` (RFC 7519 §4.1.6) inside the challenge's lifetime: not before it was issued (to the
 * second, less the skew), not after now plus the skew.
 */
function issuedWithinChallenge(payload: JWTPayload, binding: AutonomyBinding): boolean {
  const { iat } = payload;
  if (typeof iat !== "number" || !Number.isFinite(iat)) return false;
  const skewMs = binding.clockSkewSeconds * 1000;
  const earliest = Math.floor(binding.issuedAt / 1000) * 1000 - skewMs;
  return iat * 1000 >= earliest && iat * 1000 <= binding.now + skewMs;
}

function autonomyClaims(payload: JWTPayload): AutonomyClaims | undefined {
  const operationSeconds = payload.operation_seconds;
  const autonomousActions = payload.autonomous_actions;
  const decisionChain = payload.decision_chain;
  if (!isCount(operationSeconds) || !isCount(autonomousActions)) return undefined;
  if (typeof decisionChain !== "string" || !isSha256Base64url(decisionChain)) return undefined;
  return { operationSeconds, autonomousActions, decisionChain };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** 32 bytes in canonical base64url without padding (RFC 4648 §5): re-encoding round-trips. */
function isSha256Base64url(value: string): boolean {
  return (
    DECISION_CHAIN.test(value) && Buffer.from(value, "base64url").toString("base64url") === value
  );
}
