import type { KeyObject } from "node:crypto";
import { decodeBase64url } from "../crypto/jose/base64url.js";
import { decodeJsonSegment, splitCompactJws } from "../crypto/jose/compact.js";
import { importPublicJwk } from "../crypto/jose/jwk.js";
import { verifyJwsSignature } from "../crypto/jose/signature.js";

/** RFC 9449 §4.2: the `typ` of a DPoP proof. */
export const DPOP_TYP = "dpop+jwt";

/**
 * Asymmetric algorithms accepted in proofs (RFC 9449 §4.3 point 5: never `none`, never a
 * MAC), each with the one key type it signs with. Published as
 * `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
 */
export const DPOP_ALGS = ["EdDSA", "ES256"] as const;
const KEY_TYPE_OF: Readonly<Record<string, { kty: string; crv: string }>> = {
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  ES256: { kty: "EC", crv: "P-256" },
};

/** The same bound as the contract's `dpop_proof` field. */
export const MAX_PROOF_LENGTH = 4096;
/** Longest accepted `jti` (RFC 9449 §4.2 asks for ≥ 96 bits of randomness; 128 chars is ample). */
export const MAX_JTI_LENGTH = 128;
const MAX_NONCE_LENGTH = 256;
/**
 * JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4;
 * RFC 8037 §2): a proof's `jwk` must be a public key (RFC 9449 §4.3 point 7).
 */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
/** Header parameters naming another key source or critical extensions: refused. */
const REFUSED_HEADER = ["jku", "x5u", "x5c", "crit"] as const;

/** A syntactically valid proof whose signature verified with its own `jwk`. */
export interface ParsedProof {
  /** RFC 7638 thumbprint of the proof's public key. */
  readonly jkt: string;
  readonly jti: string;
  readonly htm: string;
  readonly htu: string;
  readonly iat: number;
  readonly ath?: string;
  readonly nonce?: string;
}

/**
 * RFC 9449 §4.3 points 1–7: one well-formed JWT (compact JWS, RFC 7515 §7.1) with `typ`
 * `dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` of the matching key type, a
 * signature that verifies with that key, and the required claims with their types
 * (`jti`, `htm`, `htu`, `iat`; `ath` and `nonce` typed when present). Undefined otherwise.
 * Claim values are compared later (verifier.ts); nothing here reads the store.
 */
export function parseProof(proof: string): ParsedProof | undefined {
  // Point 1: exactly one proof. Several DPoP headers joined by a proxy contain ", ".
  if (proof.length === 0 || proof.length > MAX_PROOF_LENGTH) return undefined;
  // RFC 7515 §7.1 with canonical base64url in every segment (RFC 7515 §2).
  const segments = splitCompactJws(proof);
  if (!segments) return undefined;
  const [headerPart, payloadPart, signaturePart] = segments;
  // Points 4, 5, 7: the header's typ, alg and public jwk (checked once per header).
  const proofKey = proofKeyOf(headerPart);
  const claims = proofKey && decodeJsonSegment(payloadPart);
  const signature = claims && decodeBase64url(signaturePart);
  if (!proofKey || !claims || !signature) return undefined;
  const { alg, jkt, publicKey } = proofKey;

  // Point 6: the signature verifies with that key. Always, on every proof.
  // The signing input is the proof up to its second dot (RFC 7515 §5.2), copied out once.
  const signingInput = Buffer.from(
    proof.slice(0, headerPart.length + 1 + payloadPart.length),
    "ascii",
  );
  if (!verifyJwsSignature(alg, publicKey, signingInput, signature)) return undefined;

  // Point 2 (required claims) with types.
  const { jti, htm, htu, iat, ath, nonce } = claims;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) return undefined;
  if (typeof htm !== "string" || typeof htu !== "string") return undefined;
  if (typeof iat !== "number" || !Number.isSafeInteger(iat) || iat < 0) return undefined;
  if (ath !== undefined && typeof ath !== "string") return undefined;
  if (nonce !== undefined && (typeof nonce !== "string" || nonce.length > MAX_NONCE_LENGTH)) {
    return undefined;
  }
  return {
    jkt,
    jti,
    htm,
    htu,
    iat,
    ...(ath !== undefined && { ath }),
    ...(nonce !== undefined && { nonce }),
  };
}

/** What a proof's protected header yields once accepted: the alg and its key. */
interface ProofKey {
  readonly alg: string;
  readonly jkt: string;
  readonly publicKey: KeyObject;
}

/**
 * A client signs every proof under the same header (`typ`, `alg`, `jwk`), so the header's
 * outcome is cached by its exact base64url text: it is a pure function of that text (decode,
 * checks, RFC 7638 thumbprint, key import), so a hit decides exactly what a miss would. Only
 * accepted headers are kept; bounded, emptied when full.
 */
const MAX_CACHED_HEADERS = 1024;
const headers = new Map<string, ProofKey>();

function proofKeyOf(headerPart: string): ProofKey | undefined {
  const cached = headers.get(headerPart);
  if (cached) return cached;
  const header = decodeJsonSegment(headerPart);
  if (!header) return undefined;

  // Points 4–5: typ, then alg from the allowlist only.
  if (header.typ !== DPOP_TYP) return undefined;
  const alg = header.alg;
  const keyType = typeof alg === "string" ? KEY_TYPE_OF[alg] : undefined;
  if (!keyType || REFUSED_HEADER.some((param) => param in header)) return undefined;

  // Point 7: a public key of the type the alg signs with (an Ed25519 key through the one
  // key parser: no small-order or non-canonical point).
  const jwk = header.jwk;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return undefined;
  const key = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in key)) return undefined;
  if (key.kty !== keyType.kty || key.crv !== keyType.crv) return undefined;
  const imported = importPublicJwk(key);
  if (!imported) return undefined;

  const proofKey: ProofKey = { alg: alg as string, ...imported };
  if (headers.size >= MAX_CACHED_HEADERS) headers.clear();
  headers.set(headerPart, proofKey);
  return proofKey;
}
