import { create } from "@bufbuild/protobuf";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { type VerifyResponse, VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { catalogEntry, GatehouseError, toGatehouseError } from "../errors/index.js";
import { type HttpRequest, type HttpResponse, header, headerOnce } from "./http-io.js";
import { requiredScopes } from "./mcp.js";
import { peerCertificatePem } from "./peer.js";
import { resourceMetadataUrl } from "./protected-resource.js";
import { routePath } from "./request-path.js";
import { type ForwardAuthRoute, matchRoute } from "./route-table.js";
import type { Upstream } from "./upstream.js";

export interface ForwardAuthDeps {
  readonly upstream: Upstream;
  readonly routes: readonly ForwardAuthRoute[];
  readonly requireClientCert: boolean;
}

/** The identity headers an allowed answer carries; the shipped proxy configs strip them inbound. */
export const IDENTITY_HEADERS = {
  agent: "x-gatehouse-agent",
  operator: "x-gatehouse-operator",
  scopes: "x-gatehouse-scopes",
} as const;

/** The statuses forward-auth answers with: nothing else (a proxy maps only these). */
type Status = 200 | 401 | 402 | 403 | 429 | 503;

interface Answer {
  readonly status: Status;
  readonly headers: Record<string, string>;
}

const { verify } = VerifyService.method;

/**
 * `/auth` for nginx `auth_request`, Traefik `forwardAuth` and Envoy's HTTP ext_authz: the
 * original request's method and URL come from `X-Original-*` (nginx) or `X-Forwarded-*`
 * (Traefik, Envoy) headers, its token from `Authorization` (`Bearer` or `DPoP`), its proof
 * from `DPoP`, an amount from `Gatehouse-Amount` (`EUR 1250`: currency, minor units). The
 * route table names the resource, audience and scopes. Gatehouse's Verify decides.
 */
export function createForwardAuth(deps: ForwardAuthDeps) {
  return async (req: HttpRequest, res: HttpResponse): Promise<void> => {
    const answer = await decide(req, deps).catch((thrown: unknown) =>
      refusal(toGatehouseError(thrown), "Bearer", undefined),
    );
    res.writeHead(answer.status, { "content-length": 0, ...answer.headers });
    res.end();
  };
}

async function decide(req: HttpRequest, deps: ForwardAuthDeps): Promise<Answer> {
  if (deps.requireClientCert && peerCertificatePem(req) === undefined) {
    return { status: 403, headers: { "cache-control": "no-store" } };
  }
  const original = originalRequest(req, req.method ?? "GET");
  const route =
    original.path === undefined ? undefined : matchRoute(deps.routes, original.host, original.path);
  // No protected resource names this request: deny (fail closed), nothing to challenge for.
  if (route === undefined) return { status: 403, headers: { "cache-control": "no-store" } };
  const scopes = requiredScopes(route, req);
  if (scopes === "malformed") return { status: 403, headers: { "cache-control": "no-store" } };
  const target = { route, scopes };
  // RFC 9110 §11.6.2 allows one Authorization value: two are ambiguous (Node keeps the first).
  const credentials = bearerCredentials(headerOnce(req, "authorization"));
  if (credentials === undefined) return challenge(target, "Bearer", undefined);
  if (credentials === "malformed") return challenge(target, "Bearer", "invalid_request");
  const { scheme } = credentials;
  const proof = header(req.headers, "dpop");
  const amount = parseAmount(header(req.headers, "gatehouse-amount"));
  if (amount === "malformed") return challenge(target, scheme, "invalid_request");
  const request = create(verify.input, {
    token: credentials.token,
    audience: route.audience,
    requiredScopes: [...scopes],
    // Only under the DPoP scheme (RFC 9449 §7.1): a key-bound token sent as Bearer gets no
    // proof, and Verify refuses it as a downgrade (§7.2, TOKEN_BOUND_TO_KEY), as Check does.
    ...(proof === undefined || scheme !== "DPoP" ? {} : { dpopProof: proof }),
    httpMethod: original.method,
    httpUrl: original.url,
    ...(amount === undefined ? {} : { amount }),
  });
  let decision: VerifyResponse;
  try {
    decision = (await deps.upstream.call(verify, request, "sidecar")) as VerifyResponse;
  } catch (thrown) {
    // Refused before deciding (a field over its limit, Gatehouse unreachable): still answered
    // for this route, so a 401 carries its challenge (RFC 9110 §11.6.1, RFC 6750 §3).
    return refusal(toGatehouseError(thrown), scheme, target);
  }
  if (decision.allowed) return allowed(decision);
  return refusal(
    new GatehouseError(decision.reason, { dpopNonce: decision.dpopNonce }),
    scheme,
    target,
  );
}

/** What a request is refused for: its route, and the scopes this very request needs. */
interface Target {
  readonly route: ForwardAuthRoute;
  readonly scopes: readonly string[];
}

function allowed(decision: VerifyResponse): Answer {
  const ttl = decision.cacheTtlSeconds;
  return {
    status: 200,
    headers: {
      [IDENTITY_HEADERS.agent]: decision.agentDid,
      [IDENTITY_HEADERS.operator]: decision.operatorDomain,
      [IDENTITY_HEADERS.scopes]: decision.scopes.join(" "),
      // The decision may be reused as long as Gatehouse says, by this proxy only.
      "cache-control": ttl > 0 ? `private, max-age=${ttl}` : "no-store",
      ...(decision.dpopNonce === "" ? {} : { "dpop-nonce": decision.dpopNonce }),
    },
  };
}

/**
 * A refusal as a proxy can relay it: 401 with an RFC 6750 §3 challenge, 403 (with
 * `insufficient_scope` where scopes are missing), 402 and 429 for envelope refusals, 503 when
 * Gatehouse could not decide. Any other catalog status is a bad credential: 401 with the
 * route's challenge, or 403 when no route is known to challenge for.
 */
function refusal(error: GatehouseError, scheme: string, target: Target | undefined): Answer {
  const status = catalogEntry(error.reason).http;
  const nonce = error.dpopNonce === "" ? {} : { "dpop-nonce": error.dpopNonce };
  const noStore = { "cache-control": "no-store", ...nonce };
  if (status === 402 || status === 503) return { status, headers: noStore };
  if (status === 429) {
    const wait =
      error.retryAfterMs > 0 ? { "retry-after": String(Math.ceil(error.retryAfterMs / 1000)) } : {};
    return { status, headers: { ...noStore, ...wait } };
  }
  if (status === 403) {
    const scope = error.reason === Reason.INSUFFICIENT_SCOPE && target !== undefined;
    return scope
      ? {
          status,
          headers: {
            ...noStore,
            "www-authenticate": challengeValue(scheme, target, "insufficient_scope"),
          },
        }
      : { status, headers: noStore };
  }
  // No route known, nothing to challenge for: denied, as a request no route names.
  if (target === undefined) return { status: 403, headers: noStore };
  // RFC 9449 §9: a proof without the server's nonce is answered with a DPoP challenge
  // `use_dpop_nonce` and the nonce to use in DPoP-Nonce, whatever scheme the token came in.
  const nonceRequired = error.reason === Reason.DPOP_NONCE_REQUIRED;
  const answer = challenge(target, nonceRequired ? "DPoP" : scheme, credentialError(error.reason));
  return { ...answer, headers: { ...answer.headers, ...nonce } };
}

/** The RFC 6750 §3.1 / RFC 9449 §7.1, §9 error code of a refused credential. */
function credentialError(reason: Reason): string {
  if (reason === Reason.DPOP_NONCE_REQUIRED) return "use_dpop_nonce";
  return reason === Reason.INVALID_ARGUMENT ? "invalid_request" : "invalid_token";
}

function challenge(target: Target, scheme: string, error: string | undefined): Answer {
  return {
    status: 401,
    headers: {
      "cache-control": "no-store",
      "www-authenticate": challengeValue(scheme, target, error),
    },
  };
}

/**
 * RFC 6750 §3 (and RFC 9449 §7.1 for DPoP): realm, where the resource's metadata is (RFC 9728
 * §5.1, so a client can find its authorization server), the error code, and every scope this
 * request needs (RFC 6750 §3.1; MCP authorization, "Scope Challenge Handling": all at once).
 */
function challengeValue(scheme: string, target: Target, error: string | undefined): string {
  const { route, scopes } = target;
  const params = [`realm="${route.resource}"`, `resource_metadata="${resourceMetadataUrl(route)}"`];
  if (error !== undefined) params.push(`error="${error}"`);
  if (scopes.length > 0) params.push(`scope="${scopes.join(" ")}"`);
  return `${scheme} ${params.join(", ")}`;
}

interface OriginalRequest {
  readonly method: string;
  readonly host: string;
  /** Undefined when servers could resolve it differently: no route judges it (denied). */
  readonly path: string | undefined;
  readonly url: string;
}

/**
 * nginx sends X-Original-*; Traefik X-Forwarded-*; Envoy the original method, Host and (after
 * `/auth`) path as they were. The host has its port dropped.
 */
function originalRequest(req: HttpRequest, fallbackMethod: string): OriginalRequest {
  const { headers } = req;
  const method = (
    header(headers, "x-original-method") ??
    header(headers, "x-forwarded-method") ??
    fallbackMethod
  ).toUpperCase();
  // Envoy's HTTP ext_authz sends the original path after its `path_prefix` (`/auth`).
  const envoyPath = (req.url ?? "").startsWith("/auth/")
    ? (req.url ?? "").slice("/auth".length)
    : "/";
  const uri = header(headers, "x-original-uri") ?? header(headers, "x-forwarded-uri") ?? envoyPath;
  const proto = header(headers, "x-forwarded-proto") === "http" ? "http" : "https";
  const authority =
    header(headers, "x-forwarded-host") ??
    header(headers, "host") ??
    header(headers, ":authority") ??
    "";
  const host = authority.toLowerCase().replace(/:\d+$/, "");
  const target = uri.startsWith("/") ? uri : "/";
  return { method, host, path: routePath(target), url: `${proto}://${authority}${target}` };
}

/** `Bearer <token>` or `DPoP <token>` (RFC 6750 §2.1, RFC 9449 §7.1); anything else is malformed. */
function bearerCredentials(value: string | undefined | null) {
  if (value === undefined) return undefined;
  if (value === null) return "malformed" as const;
  const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(value);
  if (match === null) return "malformed" as const;
  const scheme = (match[1] ?? "").toLowerCase() === "dpop" ? "DPoP" : "Bearer";
  return { scheme, token: match[2] ?? "" };
}

/** `EUR 1250`: an ISO 4217 code and minor units; anything else is malformed (401). */
function parseAmount(value: string | undefined) {
  if (value === undefined) return undefined;
  const match = /^([A-Z]{3}) (\d{1,18})$/.exec(value.trim());
  if (match === null) return "malformed" as const;
  return { currency: match[1] ?? "", minorUnits: BigInt(match[2] ?? "0") };
}
