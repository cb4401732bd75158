import { Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import type { JwtBearerGrant } from "../../../../../gen/gatehouse/v1/gate_pb.js";
import { verifyEd25519 } from "../../../../crypto/ed25519.js";
import { parseCompactJws } from "../../../../crypto/jose/compact.js";
import { GatehouseError } from "../../../../errors/index.js";
import { authorizeScopes } from "../../../../grants/allowance.js";
import { requireActiveAgent } from "../../../agents.js";
import type { CallContext } from "../../../types.js";
import type { GateDeps } from "../../deps.js";
import type { FlowOutcome } from "./types.js";

/** The nonce-store namespace of consumed assertion `jti`s. */
export const ASSERTION_NONCE_NAMESPACE = "assertion";

/** EdDSA over Ed25519 (RFC 8037 §3.1): the only algorithm an agent key has. */
const ASSERTION_ALG = "EdDSA";

/**
 * Header parameters an assertion may carry (RFC 7515 §4.1). Everything else is refused, in
 * particular whatever names or carries a key (`jku`, `jwk`, `x5u`, `x5c`, `x5t`, `x5t#S256`:
 * §4.1.2–4.1.8, RFC 8725 §3.10) and `crit` (§4.1.11: we understand no extension, so must
 * reject). The issuer's key comes from the registry only; `kid` is tolerated and ignored.
 */
const ALLOWED_HEADER = new Set(["alg", "typ", "kid"]);

/**
 * `typ` (RFC 7515 §4.1.9, RFC 8725 §3.11): absent or `JWT`. An agent key also signs DPoP
 * proofs (`dpop+jwt`) and autonomy attestations (`gatehouse-autonomy+jwt`); neither may
 * pass as an assertion.
 */
const ALLOWED_TYP = new Set(["jwt", "application/jwt"]);

/** `jti` (RFC 7519 §4.1.7): printable ASCII, bounded, so it can key the replay store. */
const JTI = /^[\x21-\x7e]{1,256}$/;
const DID = /^did:[a-z0-9]+:[\x21-\x7e]{1,250}$/;

interface AssertionClaims {
  readonly did: string;
  readonly aud: unknown;
  readonly exp: number;
  readonly iat: number;
  readonly nbf?: number;
  readonly jti: string;
}

/**
 * JWT-bearer grant (RFC 7523 §2.1): an agent-signed assertion instead of a challenge. The
 * assertion does not replace mTLS: the caller's certificate DID must be the assertion's
 * issuer. Every failure of the assertion itself is ASSERTION_INVALID, with no detail (the
 * reason is the whole answer; nothing of the assertion reaches a log or the client).
 *
 * Order: shape and header → the agent's registered key → signature → only then the claims'
 * values → the `jti` is consumed (first attempt, whatever follows) → agent status → policy.
 * Nothing is written to the store for an assertion whose signature does not verify.
 */
export async function assertionFlow(
  deps: GateDeps,
  grant: JwtBearerGrant,
  call: CallContext,
): Promise<FlowOutcome> {
  const { issuer, clockSkewSeconds: skew, assertionMaxLifetimeSeconds } = deps.settings;
  // RFC 7515 §7.1, every segment canonical base64url (RFC 7515 §2).
  const parsed = parseCompactJws(grant.assertion);
  if (!parsed) throw invalid();
  const { header, payload, signingInput, signature } = parsed;

  // RFC 8725 §3.1: the algorithm is pinned, never taken from the header (`none`, HS256 … out).
  if (header.alg !== ASSERTION_ALG) throw invalid();
  if (!Object.keys(header).every((name) => ALLOWED_HEADER.has(name))) throw invalid();
  if (header.typ !== undefined && !isAllowedTyp(header.typ)) throw invalid();

  const claims = assertionClaims(payload);
  if (!claims) throw invalid();

  // RFC 7523 §3 items 1–2: `iss` = `sub` = the agent, whose key is the registered one
  // (RFC 7523 §3 item 9: the signature must verify with a key the server associates with
  // the issuer). An unknown DID is indistinguishable from a bad signature.
  const registered = await deps.store.registry.getAgent(claims.did);
  if (!registered) throw invalid();
  const publicKey = Buffer.from(registered.publicKeyHex, "hex");
  if (!verifyEd25519(publicKey, signingInput, signature)) throw invalid();

  // mTLS stays the authentication of the connection: the certificate's DID must be the
  // assertion's issuer (an assertion cannot be carried by another agent's connection).
  if (call.caller.did !== undefined && call.caller.did !== claims.did) {
    throw new GatehouseError(Reason.DID_MISMATCH);
  }

  // RFC 7523 §3 item 3: `aud` must identify this server. Gatehouse is stricter than
  // "contains": the issuer as a string, or an array holding exactly that one value. An
  // assertion also addressed to other servers could be presented there too, and a `jti` is
  // single-use only per server (RFC 8725 §3.9). Compared exactly, no URL normalisation.
  const aud = claims.aud;
  const audOk = aud === issuer || (Array.isArray(aud) && aud.length === 1 && aud[0] === issuer);
  if (!audOk) throw invalid();

  // RFC 7523 §3 items 4–6 (RFC 7519 §4.1.4–4.1.6): `exp` in the future, `nbf` honoured,
  // `iat` not in the future, each with the skew; the lifetime is short and bounded.
  const nowMs = deps.clock.now();
  const now = Math.floor(nowMs / 1000);
  if (claims.exp <= now - skew) throw invalid();
  if (claims.iat > now + skew) throw invalid();
  if (claims.nbf !== undefined && claims.nbf > now + skew) throw invalid();
  if (claims.exp <= claims.iat || claims.exp - claims.iat > assertionMaxLifetimeSeconds) {
    throw invalid();
  }

  // RFC 7523 §3 item 7: single use. Consumed atomically across replicas, on this first
  // attempt, for as long as the assertion could still be accepted (`exp` + skew).
  const ttlMs = Math.max(1, (claims.exp + skew) * 1000 - nowMs);
  const first = deps.store.nonces.useOnce(
    ASSERTION_NONCE_NAMESPACE,
    `${claims.did}:${claims.jti}`,
    ttlMs,
  );
  // Status (suspended → AGENT_SUSPENDED, operator too) and policy: the agent as read for its
  // key, its operator and its key's revocation read with the jti's use (one round trip); a
  // replay is refused as such first.
  const standing = requireActiveAgent(deps.store, claims.did, () => registered);
  standing.catch(() => {}); // observed here; awaited (and thrown) below unless a replay wins
  if (!(await first)) throw new GatehouseError(Reason.ASSERTION_REPLAYED);
  const agent = await standing;
  const scopes = [...new Set(grant.scopes)].sort();
  const authority = await authorizeScopes(deps.store.grants, agent, scopes, grant.audience, nowMs);
  return { agent, presenter: agent, scopes, audience: grant.audience, authority };
}

function invalid(): GatehouseError {
  return new GatehouseError(Reason.ASSERTION_INVALID);
}

function isAllowedTyp(typ: unknown): boolean {
  // RFC 7515 §4.1.9: media type names are case-insensitive.
  return typeof typ === "string" && ALLOWED_TYP.has(typ.toLowerCase());
}

const isTime = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/**
 * Presence and types (RFC 7523 §3): `iss` = `sub` (a DID), `aud`, `exp`, `jti` required;
 * `iat` required too, since the lifetime `exp - iat` is bounded; `nbf` optional.
 */
function assertionClaims(payload: Record<string, unknown>): AssertionClaims | undefined {
  const { iss, sub, aud, exp, iat, nbf, jti } = payload;
  if (typeof iss !== "string" || !DID.test(iss) || sub !== iss) return undefined;
  if (aud === undefined || !isTime(exp) || !isTime(iat)) return undefined;
  if (nbf !== undefined && !isTime(nbf)) return undefined;
  if (typeof jti !== "string" || !JTI.test(jti)) return undefined;
  return { did: iss, aud, exp, iat, ...(nbf !== undefined && { nbf }), jti };
}
