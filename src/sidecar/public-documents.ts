import { createHash } from "node:crypto";
import { create, type Message } from "@bufbuild/protobuf";
import {
  type GetIssuerMetadataResponse,
  type GetJwksResponse,
  VerifyService,
} from "../../gen/gatehouse/v1/verify_pb.js";
import { type HttpRequest, type HttpResponse, header } from "./http-io.js";
import { OAUTH_GRANT_TYPES } from "./oauth/grants.js";
import type { Upstream } from "./upstream.js";

const { getJwks, getIssuerMetadata } = VerifyService.method;

/**
 * The documents anyone may fetch, without a client certificate: the JWK Set (RFC 7517) and
 * the authorization server metadata (RFC 8414), each read from Gatehouse as the sidecar
 * itself. Caching follows Gatehouse's `cache_max_age_seconds`: the key ring publishes a key
 * at least that long before it signs, so a cached set never misses a signing key.
 */
export function createPublicDocuments(upstream: Upstream, publicUrl: string) {
  const base = publicUrl.replace(/\/$/, "");
  const read = <T extends Message>(method: typeof getJwks | typeof getIssuerMetadata) =>
    upstream.call(method, create(method.input), "sidecar") as Promise<T>;

  const readJwks = async (): Promise<CacheableDocument> => {
    const set = await read<GetJwksResponse>(getJwks);
    return { body: { keys: set.keys.map(jwkJson) }, maxAgeSeconds: set.cacheMaxAgeSeconds };
  };

  return {
    /** The JWK Set as served, for a route that answers with it after checks of its own. */
    readJwks,

    async jwks(req: HttpRequest, res: HttpResponse): Promise<void> {
      sendCacheable(req, res, await readJwks());
    },

    /**
     * RFC 8414 §2, only what is served: the OAuth token endpoint (oauth/token-endpoint.ts)
     * and its grants, clients authenticated by an agent-signed assertion (RFC 7523 §2.2) —
     * over mTLS with the agent's certificate besides — and DPoP-bound tokens (RFC 9449 §5.1);
     * no authorization endpoint.
     */
    async authorizationServer(req: HttpRequest, res: HttpResponse): Promise<void> {
      const meta = await read<GetIssuerMetadataResponse>(getIssuerMetadata);
      const body = {
        issuer: meta.issuer,
        jwks_uri: meta.jwksUri,
        token_endpoint: `${base}/oauth2/token`,
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported: ["EdDSA"],
        grant_types_supported: [...OAUTH_GRANT_TYPES],
        response_types_supported: [],
        dpop_signing_alg_values_supported: meta.dpopSigningAlgValuesSupported,
      };
      sendCacheable(req, res, { body, maxAgeSeconds: meta.cacheMaxAgeSeconds });
    },

    /** Gatehouse's own discovery document: where each HTTP surface is. */
    async gatehouse(req: HttpRequest, res: HttpResponse): Promise<void> {
      const meta = await read<GetIssuerMetadataResponse>(getIssuerMetadata);
      const body = {
        issuer: meta.issuer,
        jwks_uri: meta.jwksUri,
        token_endpoint: meta.tokenEndpoint,
        token_signing_alg_values_supported: meta.tokenSigningAlgValuesSupported,
        dpop_signing_alg_values_supported: meta.dpopSigningAlgValuesSupported,
        grant_types_supported: meta.grantTypesSupported,
        forward_auth_endpoint: `${base}/auth`,
        oauth_token_endpoint: `${base}/oauth2/token`,
        rest_base: `${base}/v1`,
        openapi_url: `${base}/openapi.json`,
      };
      sendCacheable(req, res, { body, maxAgeSeconds: meta.cacheMaxAgeSeconds });
    },
  };
}

/** RFC 7517 §4: members without a value are left out, not sent empty. */
function jwkJson(jwk: GetJwksResponse["keys"][number]): Record<string, string> {
  const members = {
    kty: jwk.kty,
    crv: jwk.crv,
    x: jwk.x,
    y: jwk.y,
    kid: jwk.kid,
    alg: jwk.alg,
    use: jwk.use,
  };
  return Object.fromEntries(Object.entries(members).filter(([, value]) => value !== ""));
}

/** A document's JSON body and how long a client may cache it. */
export interface CacheableDocument {
  readonly body: unknown;
  readonly maxAgeSeconds: number;
}

/**
 * A strong ETag over the exact bytes, `Cache-Control: public, max-age`, and 304 for a
 * matching `If-None-Match` (RFC 9110 §13.1.2, §15.4.5).
 */
export function sendCacheable(
  req: HttpRequest,
  res: HttpResponse,
  { body, maxAgeSeconds }: CacheableDocument,
): void {
  sendCacheableText(req, res, cacheableJson(body), maxAgeSeconds);
}

/** A JSON document's exact bytes and their strong ETag. */
export interface CacheableJson {
  readonly text: string;
  readonly etag: string;
}

export function cacheableJson(body: unknown): CacheableJson {
  const text = JSON.stringify(body);
  return { text, etag: `"${createHash("sha256").update(text).digest("base64url")}"` };
}

export function sendCacheableText(
  req: HttpRequest,
  res: HttpResponse,
  { text, etag }: CacheableJson,
  maxAgeSeconds: number,
): void {
  const headers = { etag, "cache-control": `public, max-age=${maxAgeSeconds}` };
  const ifNoneMatch = header(req.headers, "if-none-match");
  if (ifNoneMatch?.split(",").some((tag) => tag.trim() === etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
