import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { constantTimeEqual } from "../crypto/constant-time.js";
import { ed25519Thumbprint } from "../crypto/jose/thumbprint.js";
import { GatehouseError } from "../errors/index.js";
import type { DpopVerifier } from "./verifier.js";

/** The Token RPC's HTTP path (its `google.api.http` annotation; RFC 8414 `token_endpoint`). */
export const TOKEN_PATH = "/v1/tokens";

/**
 * The proof sent to the token endpoint (RFC 9449 §5): `htm` POST, `htu` the token endpoint
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
    url: `${publicUrl.replace(/\/+$/, "")}${TOKEN_PATH}`,
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
  if (!constantTimeEqual(ed25519Thumbprint(Buffer.from(publicKeyHex, "hex")), jkt)) {
    throw new GatehouseError(Reason.DPOP_INVALID, { field: "dpop_proof" });
  }
}
