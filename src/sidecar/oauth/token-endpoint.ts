import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { GateService, type TokenResponse } from "../../../gen/gatehouse/v1/gate_pb.js";
import type { Clock } from "../../clock.js";
import { toGatehouseError } from "../../errors/index.js";
import type { ClientAddressOf } from "../client-address.js";
import {
  type HttpRequest,
  type HttpResponse,
  header,
  headerOnce,
  mediaType,
  methodIsOneOf,
  readBody,
  sendJson,
} from "../http-io.js";
import { peerCertificatePem } from "../peer.js";
import type { Upstream } from "../upstream.js";
import {
  clientChallenge,
  type GrantFamily,
  invalidClient,
  OAuthError,
  oauthErrorOf,
} from "./errors.js";
import { ACCESS_TOKEN_TYPE, grantOf } from "./grants.js";

export interface OAuthTokenDeps {
  readonly upstream: Upstream;
  readonly maxBodyBytes: number;
  readonly clock: Clock;
  /** Where each request came from, forwarded to Gatehouse with the caller's certificate. */
  readonly clientAddressOf: ClientAddressOf;
}

const { token } = GateService.method;

/** RFC 6749 §5.1 and §5.2: token answers, and refusals, are never cached. */
const NO_CACHE = { pragma: "no-cache" } as const;

/**
 * `POST /oauth2/token` (RFC 6749 §3.2, form-encoded), mapped onto the Token RPC:
 * `client_credentials` with an agent-signed `client_assertion` (RFC 7523 §2.2,
 * private_key_jwt), the JWT-bearer grant (§2.1) and token exchange (RFC 8693 §2.1); `scope`;
 * `resource` (RFC 8707) as the audience; a `DPoP` header (RFC 9449 §5) binds the token to the
 * agent's key. The client also presents its agent certificate (mTLS): Gatehouse requires
 * the assertion's DID, or the subject token's holder, to be the caller. Other methods: 405
 * with `Allow: POST`. No client authenticates with the `Authorization` header (HTTP Basic, RFC
 * 6749 §2.3.1, is not served): one that tries is refused `invalid_client`, challenged in the
 * scheme it tried.
 */
export function createOAuthTokenEndpoint(deps: OAuthTokenDeps) {
  return async (req: HttpRequest, res: HttpResponse): Promise<void> => {
    if (!methodIsOneOf(req, res, ["POST"])) return;
    let family: GrantFamily = "assertion";
    try {
      // RFC 6749 §2.3: one authentication method per request, and this is not one served.
      if (req.headers.authorization !== undefined) throw invalidClient();
      const params = await formOf(req, deps.maxBodyBytes);
      const certificatePem = peerCertificatePem(req);
      if (certificatePem === undefined) throw invalidClient();
      const { address } = deps.clientAddressOf(req);
      const parsed = grantOf(params);
      family = parsed.family;
      const proof = dpopHeader(req);
      const request = create(token.input, {
        grant: parsed.grant,
        ...(proof === undefined ? {} : { dpopProof: proof }),
      });
      const issued = (await deps.upstream.call(token, request, {
        certificatePem,
        address,
      })) as TokenResponse;
      sendIssued(res, issued, parsed.family, deps.clock);
    } catch (thrown) {
      const error =
        thrown instanceof OAuthError ? thrown : oauthErrorOf(toGatehouseError(thrown), family);
      // RFC 6749 §5.2: a 401 challenges in the scheme the client tried, if it tried one.
      const challenge =
        error.status === 401
          ? { "www-authenticate": clientChallenge(header(req.headers, "authorization")) }
          : {};
      sendJson(
        res,
        error.status,
        { error: error.code },
        { ...NO_CACHE, ...error.headers, ...challenge },
      );
    }
  };
}

/** RFC 6749 §5.1 (with RFC 8693 §2.2.1 `issued_token_type`, RFC 9449 §8 `DPoP-Nonce`). */
function sendIssued(res: HttpResponse, issued: TokenResponse, family: GrantFamily, clock: Clock) {
  const expiresAt = issued.expiresAt ? timestampMs(issued.expiresAt) : clock.now();
  const body = {
    access_token: issued.accessToken,
    token_type: issued.tokenType,
    expires_in: Math.max(0, Math.floor((expiresAt - clock.now()) / 1000)),
    scope: issued.scopes.join(" "),
    ...(family === "exchange" ? { issued_token_type: ACCESS_TOKEN_TYPE } : {}),
  };
  const nonce = issued.dpopNonce === "" ? {} : { "dpop-nonce": issued.dpopNonce };
  sendJson(res, 200, body, { ...NO_CACHE, ...nonce });
}

/**
 * The form (RFC 6749 §3.2, Appendix B). Each parameter at most once (§3.2), except that
 * several `resource`s (RFC 8707 §2) ask for a token Gatehouse cannot issue: one audience.
 */
async function formOf(req: HttpRequest, maxBodyBytes: number): Promise<URLSearchParams> {
  if (mediaType(header(req.headers, "content-type")) !== "application/x-www-form-urlencoded")
    throw new OAuthError("invalid_request");
  const params = new URLSearchParams((await readBody(req, maxBodyBytes)).toString("utf8"));
  for (const key of new Set(params.keys())) {
    if (params.getAll(key).length === 1) continue;
    throw new OAuthError(key === "resource" ? "invalid_target" : "invalid_request");
  }
  return params;
}

/** RFC 9449 §4.3 point 1: exactly one `DPoP` header; two are refused, not joined. */
function dpopHeader(req: HttpRequest): string | undefined {
  const proof = headerOnce(req, "dpop");
  if (proof === null || proof === "") throw new OAuthError("invalid_dpop_proof");
  return proof;
}
