import { type Ed25519PublicKey, verifyEd25519 } from "../../crypto/ed25519.js";
import { decodeBase64url } from "../../crypto/jose/base64url.js";
import { parseCompactJws } from "../../crypto/jose/compact.js";
import { AUTONOMY_ALG, AUTONOMY_TYP, type AutonomyClaims } from "./format.js";

/** What the attestation must be bound to, all from the server's own records. */
export interface AutonomyBinding {
  readonly did: string;
  /** The agent's registered Ed25519 key: the only key an attestation is checked with. */
  readonly publicKey: Ed25519PublicKey;
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

/**
 * Verifies an autonomy attestation (format in ./format.ts). Returns its claims, or undefined
 * when it is not a valid attestation by this agent for this challenge. Never throws, and never
 * says why: the caller answers one reason, so nothing about the token reaches a log or client.
 *
 * Order: the one compact-JWS parser (canonical base64url, RFC 7515 §2, §7.1) → header →
 * signature with the registered key (RFC 7515 §5.2, strict Ed25519) → claims.
 */
export function verifyAutonomyAttestation(
  token: string,
  binding: AutonomyBinding,
): AutonomyClaims | undefined {
  const jws = parseCompactJws(token);
  if (!jws || !headerAcceptable(jws.header, binding.did)) return undefined;
  if (!verifyEd25519(binding.publicKey, jws.signingInput, jws.signature)) return undefined;
  const { payload } = jws;
  // `iss`/`sub` = the DID (RFC 7519 §4.1.1, §4.1.2), the challenge as `nonce`, the time claims.
  if (payload.iss !== binding.did || payload.sub !== binding.did) return undefined;
  if (payload.nonce !== binding.challengeId || !timesAcceptable(payload, binding)) {
    return undefined;
  }
  return autonomyClaims(payload);
}

/**
 * `alg` pinned (RFC 8725 §3.1: `none` and every other alg refused), `typ` explicit (RFC 8725
 * §3.11; media types compare case-insensitively, `application/` optional, RFC 7515 §4.1.9),
 * and `kid` (§4.1.4), when present, may only name the agent itself.
 */
function headerAcceptable(header: Record<string, unknown>, did: string): boolean {
  const typ = typeof header.typ === "string" ? header.typ.toLowerCase() : undefined;
  return (
    Object.keys(header).every((name) => ALLOWED_HEADER.has(name)) &&
    header.alg === AUTONOMY_ALG &&
    (typ === AUTONOMY_TYP || typ === `application/${AUTONOMY_TYP}`) &&
    (header.kid === undefined || header.kid === did)
  );
}

const isTime = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

/**
 * `exp` and `nbf` honoured with the skew when present (RFC 7519 §4.1.4, §4.1.5); `iat`
 * (§4.1.6) required, inside the challenge's lifetime: not before it was issued (to the second,
 * less the skew), not after now plus the skew.
 */
function timesAcceptable(payload: Record<string, unknown>, binding: AutonomyBinding): boolean {
  const { exp, nbf, iat } = payload;
  const skewMs = binding.clockSkewSeconds * 1000;
  if (exp !== undefined && (!isTime(exp) || exp * 1000 <= binding.now - skewMs)) return false;
  if (nbf !== undefined && (!isTime(nbf) || nbf * 1000 > binding.now + skewMs)) return false;
  if (!isTime(iat)) return false;
  const earliest = Math.floor(binding.issuedAt / 1000) * 1000 - skewMs;
  return iat * 1000 >= earliest && iat * 1000 <= binding.now + skewMs;
}

function autonomyClaims(payload: Record<string, unknown>): AutonomyClaims | undefined {
  const operationSeconds = payload.operation_seconds;
  const autonomousActions = payload.autonomous_actions;
  const decisionChain = payload.decision_chain;
  if (!isCount(operationSeconds) || !isCount(autonomousActions)) return undefined;
  if (typeof decisionChain !== "string" || decodeBase64url(decisionChain)?.length !== 32) {
    return undefined;
  }
  return { operationSeconds, autonomousActions, decisionChain };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
