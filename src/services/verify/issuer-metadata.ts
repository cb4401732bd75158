import type { MessageInitShape } from "@bufbuild/protobuf";
import type { GetIssuerMetadataResponseSchema } from "../../../gen/gatehouse/v1/verify_pb.js";
import type { KeyRing } from "../../crypto/key-ring.js";
import { DPOP_ALGS } from "../../dpop/index.js";

/** Grant types Token accepts (RFC 8414 §2 `grant_types_supported`). */
export const GRANT_TYPES = [
  "urn:gatehouse:params:grant-type:pass",
  // RFC 7523 §2.1: an agent-signed JWT assertion (TokenRequest.assertion).
  "urn:ietf:params:oauth:grant-type:jwt-bearer",
  // RFC 8693 §2.1: token exchange, narrowing and delegation (TokenRequest.exchange).
  "urn:ietf:params:oauth:grant-type:token-exchange",
] as const;

/**
 * Issuer metadata in RFC 8414 §2 terms. The URLs are the HTTP paths the sidecar serves
 * (`/.well-known/jwks.json`, the Token RPC's `google.api.http` path) under its public URL.
 */
export async function issuerMetadata(
  issuer: string,
  publicUrl: string,
  keys: KeyRing,
  cacheMaxAgeSeconds: number,
): Promise<MessageInitShape<typeof GetIssuerMetadataResponseSchema>> {
  const base = publicUrl.replace(/\/$/, "");
  const algs = new Set((await keys.published()).map((key) => key.alg));
  return {
    issuer,
    jwksUri: `${base}/.well-known/jwks.json`,
    tokenEndpoint: `${base}/v1/tokens`,
    tokenSigningAlgValuesSupported: [...algs].sort(),
    grantTypesSupported: [...GRANT_TYPES],
    // RFC 9449 §5.1: the algorithms DPoP proofs may use (src/dpop/proof.ts).
    dpopSigningAlgValuesSupported: [...DPOP_ALGS],
    cacheMaxAgeSeconds,
  };
}
