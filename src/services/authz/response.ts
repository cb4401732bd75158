import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { HeaderValueOption_HeaderAppendAction } from "../../../gen/envoy/config/core/v3/base_pb.js";
import type { CheckResponseSchema } from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { StatusCode } from "../../../gen/envoy/type/v3/http_status_pb.js";
import { type AuthzDecision, type Denial, reasonName } from "./decision.js";

type CheckResponseInit = MessageInitShape<typeof CheckResponseSchema>;

/** google.rpc.Code OK; Connect's Code (same numbering) has no member for it. */
const RPC_OK = 0;

/** Identity headers Envoy sets on an allowed request before forwarding it. */
const IDENTITY_HEADERS = {
  agent: "x-gatehouse-agent",
  scopes: "x-gatehouse-scopes",
  operator: "x-gatehouse-operator",
  /** A delegated token's current actor (RFC 8693 §4.1 `act.sub`); empty when none. */
  actor: "x-gatehouse-actor",
} as const;

/**
 * Envoy's CheckResponse for a decision. Envoy allows on `status.code` OK and otherwise sends
 * `denied_response` as a local reply (Envoy API: envoy.service.auth.v3.CheckResponse).
 *
 * Allowed: the identity headers overwrite whatever the client sent under those names, so an
 * upstream can trust them. `authorization` is kept (not in `headers_to_remove`) so upstreams
 * can still re-verify the token against the JWKS; Envoy's route config can strip it instead.
 */
export function toCheckResponse(decision: AuthzDecision): CheckResponseInit {
  if (decision.allowed) {
    const { claims } = decision;
    return {
      status: { code: RPC_OK },
      httpResponse: {
        case: "okResponse",
        value: {
          headers: [
            header(IDENTITY_HEADERS.agent, claims.sub),
            header(IDENTITY_HEADERS.scopes, claims.scopes.join(" ")),
            header(IDENTITY_HEADERS.operator, claims.operator),
            header(IDENTITY_HEADERS.actor, claims.actors?.[0] ?? ""),
          ],
        },
      },
    };
  }
  const reason = reasonName(decision.reason);
  const unauthenticated = decision.httpStatus === 401;
  return {
    status: {
      code: unauthenticated ? Code.Unauthenticated : Code.PermissionDenied,
      message: reason,
    },
    httpResponse: {
      case: "deniedResponse",
      value: {
        status: { code: DENIED_STATUS[decision.httpStatus] },
        headers: [
          ...(decision.challenge ? [header("www-authenticate", decision.challenge)] : []),
          header("content-type", "application/json"),
          ...(decision.dpopNonce ? [header("dpop-nonce", decision.dpopNonce)] : []),
        ],
        body: JSON.stringify({ reason }),
      },
    },
  };
}

const DENIED_STATUS: Readonly<Record<Denial["httpStatus"], StatusCode>> = {
  400: StatusCode.BadRequest,
  401: StatusCode.Unauthorized,
  402: StatusCode.PaymentRequired,
  403: StatusCode.Forbidden,
  429: StatusCode.TooManyRequests,
};

/**
 * Replaces any header of that name (newer Envoy defaults to appending when `append_action`
 * is unset; older Envoy ignores the field and overwrites). An empty value is kept, so it
 * still replaces a client-supplied one.
 */
function header(key: string, value: string) {
  return {
    header: { key, value },
    appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
    keepEmptyValue: true,
  };
}
