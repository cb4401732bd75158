import { create } from "@bufbuild/protobuf";
import {
  Authorization,
  CheckRequestSchema,
  CheckResponseSchema,
} from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { AuditEventType, actorOf } from "../../audit/events.js";
import type { Audit } from "../../audit/writer.js";
import type { VerifiedClaims, VerifyDeps } from "../../verify/types.js";
import { PreEncoded } from "../pre-encoded.js";
import { bindService, type RequestDecoders, type ServiceBinding } from "../types.js";
import { decide } from "./decision.js";
import { readCheckRequest } from "./request.js";
import { toCheckResponse } from "./response.js";
import { decodeCheckRequest } from "./wire.js";

/**
 * Envoy's CheckRequest carries every header of the HTTP request it is about; Check reads
 * three of them, so it is decoded by its own reader (wire.ts), not `fromBinary`.
 */
export const AUTHZ_DECODERS: RequestDecoders = new Map([
  [CheckRequestSchema.typeName, decodeCheckRequest],
]);

/**
 * Envoy's external authorization API (`envoy.service.auth.v3.Authorization/Check`), for the
 * ext_authz HTTP filter and Istio's CUSTOM action. It runs the Verify pipeline on the token
 * the request carries and answers a refused client with a denied CheckResponse (RFC 6750
 * challenge). An RPC error means Gatehouse or the route's settings failed (store down, bad
 * `gatehouse_required_scopes`); Envoy then fails closed with its `status_on_error`.
 */
export interface AuthzServiceDeps extends VerifyDeps {
  readonly audit: Audit;
  /** Told of every decision's reason (UNSPECIFIED when allowed): the metrics hook. */
  readonly onDecision?: (reason: Reason) => void;
}

export function createAuthzService(deps: AuthzServiceDeps): ServiceBinding {
  const allowedCheck = allowedChecks();
  return bindService(
    Authorization,
    {
      async check(request, { caller }) {
        const decided = decide(readCheckRequest(request), deps);
        const decision = decided instanceof Promise ? await decided : decided;
        deps.onDecision?.(decision.allowed ? Reason.UNSPECIFIED : decision.reason);
        if (!decision.allowed) {
          // Like Verify: folded per key and window, never awaited on the request path.
          deps.audit.deny({
            denied: AuditEventType.CHECK_DENIED,
            ...actorOf(caller),
            reason: decision.reason,
            subjectDid: decision.claims?.sub ?? "",
            operatorDomain: decision.claims?.operator ?? "",
          });
        }
        return decision.allowed ? allowedCheck(decision.claims) : toCheckResponse(decision);
      },
    },
    AUTHZ_DECODERS,
  );
}

/**
 * Like Verify's allowed answer: a pure function of the verified claims, which one
 * verified-token cache entry shares across its hits. Built and encoded once per claims
 * (PreEncoded), and handed out again; every pipeline step still ran for the request.
 */
function allowedChecks(): (claims: VerifiedClaims) => PreEncoded<typeof CheckResponseSchema> {
  const built = new WeakMap<VerifiedClaims, PreEncoded<typeof CheckResponseSchema>>();
  return (claims) => {
    let response = built.get(claims);
    if (!response) {
      const message = create(CheckResponseSchema, toCheckResponse({ allowed: true, claims }));
      response = new PreEncoded(CheckResponseSchema, message);
      built.set(claims, response);
    }
    return response;
  };
}
