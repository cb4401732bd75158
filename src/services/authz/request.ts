import type { CheckRequest } from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { invalidArgument } from "../../errors/index.js";
import { LruCache } from "../../verify/cache.js";
import type { VerifyAmount } from "../../verify/types.js";

/**
 * The amount a request commits the agent to, stated by the client (or added by the gateway)
 * as `gatehouse-amount: <ISO 4217 code> <minor units>`, e.g. `EUR 1250` for €12.50. It is
 * checked against the envelope's per-transaction cap and counted against its budget.
 */
const AMOUNT_HEADER = "gatehouse-amount";
const AMOUNT = /^([A-Z]{3}) (0|[1-9][0-9]{0,15})$/;

/** Route settings, set in the ext_authz filter's per-route `check_settings.context_extensions`. */
const AUDIENCE_EXTENSION = "gatehouse_audience";
const SCOPES_EXTENSION = "gatehouse_required_scopes";

/** The request headers read (Envoy lower-cases their names): RFC 9110 §11.6.2, RFC 9449 §4.1. */
const AUTHORIZATION_HEADER = "authorization";
const DPOP_HEADER = "dpop";

/** Everything readCheckRequest reads of the headers and context extensions (wire.ts keeps only these). */
export const READ_HEADERS: ReadonlySet<string> = new Set([
  AUTHORIZATION_HEADER,
  DPOP_HEADER,
  AMOUNT_HEADER,
]);
export const READ_EXTENSIONS: ReadonlySet<string> = new Set([AUDIENCE_EXTENSION, SCOPES_EXTENSION]);

/** How the client presented its access token. */
export type Credentials =
  /** No Authorization header, or one Gatehouse cannot use (another scheme, bad syntax). */
  | { readonly scheme: "none" }
  /** RFC 6750 §2.1 `Authorization: Bearer <token>`. */
  | { readonly scheme: "bearer"; readonly token: string }
  /** RFC 9449 §7.1 `Authorization: DPoP <token>`: with a proof in the `DPoP` header. */
  | { readonly scheme: "dpop"; readonly token: string };

/** What Gatehouse reads from Envoy's CheckRequest, whatever the transport. */
export interface AuthzRequest {
  readonly credentials: Credentials;
  /** The `aud` the token must carry. */
  readonly audience: string;
  readonly requiredScopes: readonly string[];
  /**
   * The request itself and the `DPoP` header (RFC 9449 §4.3 binds a proof to the method and
   * URI): `url` is `scheme://host path`, the path without its query (§4.3 point 9), and is
   * only built under the DPoP scheme (empty otherwise: nothing reads it).
   */
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly url: string;
  readonly dpopProof: string;
  /** The downstream peer's mTLS identity as Envoy saw it (empty without mTLS). */
  readonly sourcePrincipal: string;
  /** The stated amount: absent when the header is, "malformed" when it cannot be read. */
  readonly amount?: VerifyAmount | "malformed";
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
  const path = http?.path ?? "";
  const credentials = readCredentials(headers[AUTHORIZATION_HEADER] ?? "");
  return {
    credentials,
    audience: extensions[AUDIENCE_EXTENSION] || `https://${host}`,
    requiredScopes: readScopes(extensions[SCOPES_EXTENSION] ?? ""),
    method: http?.method ?? "",
    path,
    host,
    url:
      credentials.scheme === "dpop"
        ? `${readScheme(http?.scheme ?? "")}://${host}${path.split(/[?#]/, 1)[0] ?? ""}`
        : "",
    dpopProof: headers[DPOP_HEADER] ?? "",
    sourcePrincipal: request.attributes?.source?.principal ?? "",
    ...(headers[AMOUNT_HEADER] !== undefined && { amount: readAmount(headers[AMOUNT_HEADER]) }),
  };
}

/** A malformed amount is the client's error (400), never silently "no amount". */
function readAmount(value: string): VerifyAmount | "malformed" {
  const match = AMOUNT.exec(value);
  if (!match?.[1] || !match[2]) return "malformed";
  return { currency: match[1], minorUnits: BigInt(match[2]) };
}

/** The request's scheme; anything but http (or none) is https, the scheme the default audience assumes too. */
const readScheme = (scheme: string): "http" | "https" =>
  scheme.toLowerCase() === "http" ? "http" : "https";

/**
 * A reader that remembers what each distinct text read as: one client (or route) sends the
 * same value request after request, and the pattern match over a whole token then runs once
 * per value. An entry is found by the text's last characters (the tail of a token's
 * signature: a look-up hashes those, not the whole token, as the verified-token cache does)
 * and used only for the very text it was read from, compared in full. Bounded in entries; a
 * text that fails to read is not kept.
 */
function remembered<V>(read: (text: string) => V, maxEntries: number): (text: string) => V {
  const known = new LruCache<{ readonly text: string; readonly value: V }>(maxEntries);
  return (text) => {
    const key = text.length > KEY_CHARS ? text.slice(-KEY_CHARS) : text;
    const hit = known.get(key);
    if (hit?.text === text) return hit.value;
    const value = read(text);
    known.set(key, { text, value });
    return value;
  };
}

const KEY_CHARS = 32;

/** Envoy lower-cases header names; the auth-scheme is case-insensitive (RFC 9110 §11.1). */
const readCredentials = remembered((header: string): Credentials => {
  const match = CREDENTIALS.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  const token = match?.[2] ?? "";
  if (scheme === "bearer") return Object.freeze({ scheme, token });
  if (scheme === "dpop") return Object.freeze({ scheme, token });
  return NO_CREDENTIALS;
}, 1024);

const NO_CREDENTIALS: Credentials = Object.freeze({ scheme: "none" });

/** Space-separated, as in an OAuth `scope` (RFC 6749 §3.3). A bad value is a mesh config error. */
const readScopes = remembered((value: string): readonly string[] => {
  const scopes = value.split(" ").filter((scope) => scope !== "");
  if (!scopes.every((scope) => SCOPE_TOKEN.test(scope))) {
    throw invalidArgument(
      `attributes.context_extensions[${SCOPES_EXTENSION}]`,
      "scopes must be RFC 6749 scope tokens",
    );
  }
  return Object.freeze(scopes);
}, 256);
