import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GateService, type TokenResponse } from "../../gen/gatehouse/v1/gate_pb.js";
import type { Clock } from "../clock.js";
import { GatehouseError, toGatehouseError } from "../errors/index.js";
import { type HttpRequest, type HttpResponse, header, readBody, sendJson } from "./http-io.js";
import { peerCertificatePem } from "./peer.js";
import type { Upstream } from "./upstream.js";

export interface OAuthTokenDeps {
  readonly upstream: Upstream;
  readonly maxBodyBytes: number;
  readonly clock: Clock;
}

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** An RFC 6749 §5.2 error: the code, and the HTTP status it goes with. */
class OAuthError extends Error {
  constructor(
    readonly code: string,
    readonly status = 400,
    readonly retryAfterSeconds?: number,
  ) {
    super(code);
  }
}

const { token } = GateService.method;

/**
 * `POST /oauth2/token` (RFC 6749 §3.2, form-encoded), mapped onto the Token RPC's JWT-bearer
 * grant: `grant_type=client_credentials` with an agent-signed `client_assertion` (RFC 7523
 * §2.2, private_key_jwt) or `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with an
 * `assertion` (§2.1); `scope`; `resource` (RFC 8707) as the audience. The client also presents
 * its agent certificate (mTLS): Gatehouse requires the assertion's DID to be the caller's.
 */
export function createOAuthTokenEndpoint(deps: OAuthTokenDeps) {
  return async (req: HttpRequest, res: HttpResponse): Promise<void> => {
    if (req.method !== "POST") throw new GatehouseError(Reason.HTTP_METHOD_NOT_ALLOWED);
    try {
      const issued = await exchange(req, deps);
      const expiresAt = issued.expiresAt ? timestampMs(issued.expiresAt) : deps.clock.now();
      // RFC 6749 §5.1: the answer must not be cached.
      sendJson(
        res,
        200,
        {
          access_token: issued.accessToken,
          token_type: issued.tokenType,
          expires_in: Math.max(0, Math.floor((expiresAt - deps.clock.now()) / 1000)),
          scope: issued.scopes.join(" "),
        },
        { pragma: "no-cache" },
      );
    } catch (thrown) {
      const error = thrown instanceof OAuthError ? thrown : oauthErrorOf(toGatehouseError(thrown));
      const retry =
        error.retryAfterSeconds === undefined
          ? {}
          : { "retry-after": String(error.retryAfterSeconds) };
      const challenge =
        error.status === 401 ? { "www-authenticate": 'Bearer error="invalid_client"' } : {};
      sendJson(
        res,
        error.status,
        { error: error.code },
        { pragma: "no-cache", ...retry, ...challenge },
      );
    }
  };
}

async function exchange(req: HttpRequest, deps: OAuthTokenDeps): Promise<TokenResponse> {
  const type = (header(req.headers, "content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new OAuthError("invalid_request");
  const params = new URLSearchParams((await readBody(req, deps.maxBodyBytes)).toString("utf8"));
  // RFC 6749 §3.2: parameters must not be included more than once.
  for (const key of new Set(params.keys())) {
    if (params.getAll(key).length > 1) throw new OAuthError("invalid_request");
  }
  const certificatePem = peerCertificatePem(req);
  if (certificatePem === undefined) throw new OAuthError("invalid_client", 401);
  // Tokens here are bearer tokens: a DPoP proof would name this URL, which Token does not check.
  if (header(req.headers, "dpop") !== undefined) throw new OAuthError("invalid_dpop_proof");
  const assertion = assertionOf(params);
  const scope = params.get("scope") ?? "";
  const request = create(token.input, {
    grant: {
      case: "assertion",
      value: {
        assertion,
        scopes: scope === "" ? [] : scope.split(" "),
        audience: params.get("resource") ?? "",
      },
    },
  });
  return (await deps.upstream.call(token, request, { certificatePem })) as TokenResponse;
}

/** The assertion, by grant type (RFC 7523 §2.1 and §2.2). */
function assertionOf(params: URLSearchParams): string {
  switch (params.get("grant_type")) {
    case "client_credentials": {
      if (params.get("client_assertion_type") !== CLIENT_ASSERTION_TYPE) {
        throw new OAuthError("invalid_client", 401);
      }
      const assertion = params.get("client_assertion");
      if (!assertion) throw new OAuthError("invalid_client", 401);
      return assertion;
    }
    case JWT_BEARER: {
      const assertion = params.get("assertion");
      if (!assertion) throw new OAuthError("invalid_request");
      return assertion;
    }
    case null:
      throw new OAuthError("invalid_request");
    default:
      throw new OAuthError("unsupported_grant_type");
  }
}

/** Gatehouse's refusal as an RFC 6749 §5.2 (RFC 8707 §2, RFC 9449 §5) error code. */
function oauthErrorOf(error: GatehouseError): OAuthError {
  switch (error.reason) {
    case Reason.UNAUTHENTICATED:
    case Reason.PERMISSION_DENIED:
    case Reason.FORWARDED_IDENTITY_INVALID:
      return new OAuthError("invalid_client", 401);
    case Reason.SCOPE_NOT_ALLOWED:
      return new OAuthError("invalid_scope");
    case Reason.AUDIENCE_NOT_ALLOWED:
      return new OAuthError("invalid_target");
    case Reason.DPOP_INVALID:
    case Reason.DPOP_REPLAYED:
    case Reason.DPOP_NONCE_REQUIRED:
      return new OAuthError("invalid_dpop_proof");
    case Reason.INVALID_ARGUMENT:
      if (error.field.startsWith("assertion.scopes")) return new OAuthError("invalid_scope");
      if (error.field.startsWith("assertion.audience")) return new OAuthError("invalid_target");
      return new OAuthError("invalid_request");
    case Reason.RATE_LIMITED:
      return new OAuthError("temporarily_unavailable", 429, Math.ceil(error.retryAfterMs / 1000));
    case Reason.UNAVAILABLE:
      return new OAuthError("temporarily_unavailable", 503);
    case Reason.INTERNAL:
      return new OAuthError("server_error", 500);
    default:
      // The assertion, its jti, or the agent it names (RFC 7523 §3.1: invalid_grant).
      return new OAuthError("invalid_grant");
  }
}
