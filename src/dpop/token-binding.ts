import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { constantTimeEqual } from "../crypto/constant-time.js";
import { decodeJsonSegment, splitCompactJws } from "../crypto/jose/compact.js";
import { ed25519ThumbprintOfHex } from "../crypto/jose/thumbprint.js";
import { GatehouseError } from "../errors/index.js";
import { normalizeClaimedHtu, normalizeHtu } from "./htu.js";
import type { DpopVerifier } from "./verifier.js";

/** The Token RPC's HTTP path (its `google.api.http` annotation; RFC 8414 `token_endpoint`). */
export const TOKEN_PATH = "/v1/tokens";

/** The sidecar's OAuth token endpoint (RFC 6749 §3.2), which also calls the Token RPC. */
export const OAUTH_TOKEN_PATH = "/oauth2/token";

/**
 * The proof sent to the token endpoint (RFC 9449 §5): `htm` POST, `htu` a token endpoint
 * under the public URL (the issuer unless the sidecar's is set), no access token (so no `ath`). Checked before the grant runs, so a
 * missing nonce (§8) does not burn a single-use pass. Returns the proof key's thumbprint.
 */
export async function checkTokenRequestProof(
  verifier: DpopVerifier,
  publicUrl: string,
  proof: string,
): Promise<string> {
  const result = await verifier.verify(proof, {
    method: "POST",
    url: tokenEndpointOf(publicUrl, proof),
  });
  if (result.ok) return result.jkt;
  throw new GatehouseError(result.reason, {
    field: "dpop_proof",
    ...(result.nonce !== undefined && { dpopNonce: result.nonce }),
  });
}

/**
 * Gatehouse binds tokens only to the agent's registered key (its identity), never to a key
 * the client merely names: the proof's `jwk` must be that Ed25519 key (RFC 7638 thumbprints
 * of the OKP JWK compared, RFC 9449 §6.1).
 */
export function requireRegisteredKey(jkt: string, publicKeyHex: string): void {
  if (!constantTimeEqual(ed25519ThumbprintOfHex(publicKeyHex), jkt)) {
    throw new GatehouseError(Reason.DPOP_INVALID, { field: "dpop_proof" });
  }
}

/**
 * Two URLs reach the Token RPC: its REST path and the sidecar's OAuth endpoint; the proof is
 * checked in full (RFC 9449 §4.3 point 9) against the one its `htu` names, else the REST one.
 * Both are this issuer's token endpoint, and the `jti` is single-use across both.
 */
function tokenEndpointOf(publicUrl: string, proof: string): string {
  const base = publicUrl.replace(/\/+$/, "");
  const oauth = `${base}${OAUTH_TOKEN_PATH}`;
  const payload = splitCompactJws(proof)?.[1];
  const htu = payload === undefined ? undefined : decodeJsonSegment(payload)?.htu;
  const claimed = typeof htu === "string" ? normalizeClaimedHtu(htu) : undefined;
  return claimed !== undefined && claimed === normalizeHtu(oauth) ? oauth : `${base}${TOKEN_PATH}`;
}
