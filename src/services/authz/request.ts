import type { CheckRequest } from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { invalidArgument } from "../../errors/index.js";

/** Route settings, set in the ext_authz filter's per-route `check_settings.context_extensions`. */
const AUDIENCE_EXTENSION = "gatehouse_audience";
const SCOPES_EXTENSION = "gatehouse_required_scopes";

/** How the client presented its access token. */
export type Credentials =
  /** No Authorization header, or one Gatehouse cannot use (another scheme, bad syntax). */
  | { readonly scheme: "none" }
  /** RFC 6750 §2.1 `Authorization: Bearer <token>`. */
  | { readonly scheme: "bearer"; readonly token: string }
  /** RFC 9449 §7.1 `Authorization: DPoP <token>`: needs a proof Gatehouse cannot check yet. */
  | { readonly scheme: "dpop"; readonly token: string };

/** What Gatehouse reads from Envoy's CheckRequest, whatever the transport. */
export interface AuthzRequest {
  readonly credentials: Credentials;
  /** The `aud` the token must carry. */
  readonly audience: string;
  readonly requiredScopes: readonly string[];
  /**
   * The request itself and the `DPoP` header (RFC 9449 §4.3 binds a proof to the method and
   * URI), kept for DPoP proof checks; nothing reads them yet.
   */
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly dpopProof: string;
  /** The downstream peer's mTLS identity as Envoy saw it (empty without mTLS). */
  readonly sourcePrincipal: string;
}

/** RFC 9110 §11.4 credentials: an auth-scheme, then a token68 (RFC 6750 §2.1 b64token). */
const CREDENTIALS = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +([A-Za-z0-9._~+/-]+=*) *$/;
/** RFC 6749 §3.3 scope-token; also safe inside a quoted WWW-Authenticate parameter. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Reads the CheckRequest. The audience is `context_extensions[gatehouse_audience]` when the
 * route sets it, else `https://<host>` with the host lower-cased and kept with any port: the
 * Host header is the client's choice, so that fallback is only as strict as the virtual hosts
 * Envoy routes by (see infra/README.md).
 */
export function readCheckRequest(request: CheckRequest): AuthzRequest {
  const http = request.attributes?.request?.http;
  const extensions = request.attributes?.contextExtensions ?? {};
  const headers = http?.headers ?? {};
  const host = (http?.host ?? "").toLowerCase();
  return {
    credentials: readCredentials(headers.authorization ?? ""),
    audience: extensions[AUDIENCE_EXTENSION] || `https://${host}`,
    requiredScopes: readScopes(extensions[SCOPES_EXTENSION] ?? ""),
    method: http?.method ?? "",
    path: http?.path ?? "",
    host,
    dpopProof: headers.dpop ?? "",
    sourcePrincipal: request.attributes?.source?.principal ?? "",
  };
}

/** Envoy lower-cases header names; the auth-scheme is case-insensitive (RFC 9110 §11.1). */
function readCredentials(header: string): Credentials {
  const match = CREDENTIALS.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  const token = match?.[2] ?? "";
  if (scheme === "bearer") return { scheme, token };
  if (scheme === "dpop") return { scheme, token };
  return { scheme: "none" };
}

/** Space-separated, as in an OAuth `scope` (RFC 6749 §3.3). A bad value is a mesh config error. */
function readScopes(value: string): string[] {
  const scopes = value.split(" ").filter((scope) => scope !== "");
  if (!scopes.every((scope) => SCOPE_TOKEN.test(scope))) {
    throw invalidArgument(
      `attributes.context_extensions[${SCOPES_EXTENSION}]`,
      "scopes must be RFC 6749 scope tokens",
    );
  }
  return scopes;
}
