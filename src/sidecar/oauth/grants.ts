import type { MessageInitShape } from "@bufbuild/protobuf";
import type { TokenRequestSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import { decodeJsonSegment, parseCompactJws, splitCompactJws } from "../../crypto/jose/compact.js";
import { type GrantFamily, invalidClient, OAuthError } from "./errors.js";

export const CLIENT_CREDENTIALS = "client_credentials";
export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** RFC 8693 §3: Gatehouse's access tokens, which are JWTs (RFC 9068). */
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const SUBJECT_TOKEN_TYPES = new Set([ACCESS_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:jwt"]);

/** The grant types `/oauth2/token` accepts (RFC 8414 `grant_types_supported`). */
export const OAUTH_GRANT_TYPES = [CLIENT_CREDENTIALS, JWT_BEARER, TOKEN_EXCHANGE] as const;

type Grant = NonNullable<MessageInitShape<typeof TokenRequestSchema>["grant"]>;

export interface ParsedGrant {
  readonly family: GrantFamily;
  readonly grant: Grant;
}

/** The Token RPC grant of a form, by `grant_type` (RFC 7523 §2.1–2.2, RFC 8693 §2.1). */
export function grantOf(params: URLSearchParams): ParsedGrant {
  switch (params.get("grant_type")) {
    case CLIENT_CREDENTIALS:
      // The client is authenticated before its scope and resource are looked at.
      return assertionGrant("client", clientAssertion(params), params);
    case JWT_BEARER:
      noClientAssertion(params);
      return assertionGrant("assertion", required(params, "assertion"), params);
    case TOKEN_EXCHANGE:
      noClientAssertion(params);
      return exchangeGrant(params);
    case null:
      throw new OAuthError("invalid_request");
    default:
      throw new OAuthError("unsupported_grant_type");
  }
}

/** Only client_credentials carries the client's assertion to Gatehouse: never ignore one. */
function noClientAssertion(params: URLSearchParams): void {
  if (params.has("client_assertion")) throw new OAuthError("invalid_request");
}

function assertionGrant(
  family: "client" | "assertion",
  assertion: string,
  params: URLSearchParams,
): ParsedGrant {
  if (params.has("audience")) throw new OAuthError("invalid_request"); // RFC 8707: `resource`
  const value = { assertion, scopes: scopesOf(params), audience: params.get("resource") ?? "" };
  return { family, grant: { case: "assertion", value } };
}

/**
 * RFC 7523 §2.2 private_key_jwt: the assertion authenticates the client. What cannot be a
 * client JWT of an agent — not a compact JWS, not EdDSA, no `sub` that is also its `iss`
 * (§3 items 1–2) — is `invalid_client` here (§3.2), before the scope or resource is judged.
 * A `client_id`, when sent, must name the assertion's subject (§3.1); Gatehouse then checks
 * the signature, the claims and that the subject is the caller's certificate's DID.
 */
function clientAssertion(params: URLSearchParams): string {
  if (params.get("client_assertion_type") !== CLIENT_ASSERTION_TYPE) throw invalidClient();
  const assertion = params.get("client_assertion");
  if (!assertion) throw invalidClient();
  const jws = parseCompactJws(assertion);
  const sub = jws?.payload.sub;
  if (jws?.header.alg !== "EdDSA" || typeof sub !== "string" || jws.payload.iss !== sub) {
    throw invalidClient();
  }
  const clientId = params.get("client_id");
  if (clientId !== null && clientId !== sub) throw invalidClient();
  return assertion;
}

function unverifiedScopes(token: string): string[] {
  const scope = unverifiedClaim(token, "scope");
  // RFC 8693 §2.2.2: a subject token that is not one of Gatehouse's is invalid_request.
  if (typeof scope !== "string" || scope === "") throw new OAuthError("invalid_request");
  return scope.split(" ");
}

/** A claim of a JWT not verified yet: only ever compared with, or sent to, Gatehouse. */
function unverifiedClaim(jwt: string, name: string): unknown {
  const payload = splitCompactJws(jwt)?.[1];
  return payload === undefined ? undefined : decodeJsonSegment(payload)?.[name];
}

/**
 * RFC 8693 §2.1: the subject token is one of Gatehouse's access tokens; no actor token (the
 * actor is the caller, by its certificate; a delegate is named by the `delegate_did`
 * extension parameter, TokenExchangeGrant.delegate_did); the target from `resource` (RFC
 * 8707) or `audience`, which must agree; only access tokens are issued.
 */
function exchangeGrant(params: URLSearchParams): ParsedGrant {
  const subjectToken = required(params, "subject_token");
  if (!SUBJECT_TOKEN_TYPES.has(params.get("subject_token_type") ?? "")) {
    throw new OAuthError("invalid_request");
  }
  if (params.has("actor_token") || params.has("actor_token_type")) {
    throw new OAuthError("invalid_request");
  }
  const requested = params.get("requested_token_type");
  if (requested !== null && requested !== ACCESS_TOKEN_TYPE)
    throw new OAuthError("invalid_request");
  const resource = params.get("resource");
  const audience = params.get("audience");
  if (resource !== null && audience !== null && resource !== audience) {
    throw new OAuthError("invalid_target");
  }
  const value = {
    subjectToken,
    delegateDid: params.get("delegate_did") ?? "",
    // RFC 8693 §2.1: scope is optional; without one, the subject token's (Gatehouse checks
    // the subset against the verified token).
    scopes: params.has("scope") ? scopesOf(params) : unverifiedScopes(subjectToken),
    audience: resource ?? audience ?? "",
  };
  return { family: "exchange", grant: { case: "exchange", value } };
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (!value) throw new OAuthError("invalid_request");
  return value;
}

/** RFC 6749 §3.3: space-delimited; empty names (doubled spaces) are malformed. */
function scopesOf(params: URLSearchParams): string[] {
  const scope = params.get("scope");
  if (scope === null || scope === "") return [];
  const scopes = scope.split(" ");
  if (scopes.some((s) => s === "")) throw new OAuthError("invalid_scope");
  return scopes;
}
