import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { decodeJsonSegment } from "../crypto/jws.js";
import { jwkThumbprint } from "./thumbprint.js";

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
const SEGMENT = /^[A-Za-z0-9_-]+$/;
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
  const parts = proof.split(".");
  if (parts.length !== 3) return undefined;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (!SEGMENT.test(payloadPart) || !SEGMENT.test(signaturePart)) return undefined;
  // Points 4, 5, 7: the header's typ, alg and public jwk (checked once per header).
  const proofKey = proofKeyOf(headerPart);
  const claims = decodeJsonSegment(payloadPart);
  if (!proofKey || !claims) return undefined;
  const { alg, jkt, publicKey } = proofKey;

  // Point 6: the signature verifies with that key. Always, on every proof.
  const signature = Buffer.from(signaturePart, "base64url");
  const signingInput = Buffer.from(`${headerPart}.${payloadPart}`, "ascii");
  if (!verifySignature(alg, publicKey, signingInput, signature)) return undefined;

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
  if (headerPart.length > MAX_PROOF_LENGTH || !SEGMENT.test(headerPart)) return undefined;
  const header = decodeJsonSegment(headerPart);
  if (!header) return undefined;

  // Points 4–5: typ, then alg from the allowlist only.
  if (header.typ !== DPOP_TYP) return undefined;
  const alg = header.alg;
  const keyType = typeof alg === "string" ? KEY_TYPE_OF[alg] : undefined;
  if (!keyType || REFUSED_HEADER.some((param) => param in header)) return undefined;

  // Point 7: a public key of the type the alg signs with.
  const jwk = header.jwk;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return undefined;
  const key = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in key)) return undefined;
  if (key.kty !== keyType.kty || key.crv !== keyType.crv) return undefined;
  const jkt = jwkThumbprint(key);
  const publicKey = jkt === undefined ? undefined : importPublicKey(jkt, key);
  if (!publicKey || jkt === undefined) return undefined;

  const proofKey: ProofKey = { alg: alg as string, jkt, publicKey };
  if (headers.size >= MAX_CACHED_HEADERS) headers.clear();
  headers.set(headerPart, proofKey);
  return proofKey;
}

/**
 * Imported keys by RFC 7638 thumbprint: the thumbprint is SHA-256 over exactly the members
 * imported (kty, crv, x, and y for EC), so one thumbprint is one key. Bounded, emptied when full.
 */
const MAX_CACHED_KEYS = 1024;
const keys = new Map<string, KeyObject>();

/** Only the public members reach node:crypto, so nothing else in `jwk` is interpreted. */
function importPublicKey(jkt: string, jwk: Record<string, unknown>): KeyObject | undefined {
  const cached = keys.get(jkt);
  if (cached) return cached;
  const { kty, crv, x, y } = jwk;
  try {
    const key = createPublicKey({
      key: kty === "EC" ? { kty, crv, x, y } : { kty, crv, x },
      format: "jwk",
    } as Parameters<typeof createPublicKey>[0]);
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(jkt, key);
    return key;
  } catch {
    return undefined;
  }
}

/** EdDSA: pure Ed25519 (RFC 8037 §3.1); ES256: raw r||s (RFC 7518 §3.4). Never throws. */
function verifySignature(
  alg: string,
  publicKey: KeyObject,
  signingInput: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (alg === "EdDSA")
      return signature.length === 64 && verify(null, signingInput, publicKey, signature);
    if (alg === "ES256") {
      return (
        signature.length === 64 &&
        verify("sha256", signingInput, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)
      );
    }
    return false;
  } catch {
    return false;
  }
}
