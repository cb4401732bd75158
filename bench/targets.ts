/** The measured RPCs, as raw bytes in and a correctness check on the bytes out. */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  CheckRequestSchema,
  CheckResponseSchema,
} from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Reason } from "../gen/gatehouse/v1/errors_pb.js";
import { VerifyRequestSchema, VerifyResponseSchema } from "../gen/gatehouse/v1/verify_pb.js";
import type { GoCheck, Target } from "./load.js";

/** HealthCheckResponse{status: SERVING}: field 1, varint, value 1. */
const SERVING = Buffer.from([0x08, 0x01]);

/** The empty-RPC ceiling: an empty HealthCheckRequest (service "" = the whole server). */
export const healthTarget: Target = {
  name: "health",
  path: "/grpc.health.v1.Health/Check",
  request: Buffer.alloc(0),
  check: (response) =>
    response.equals(SERVING) ? undefined : `not SERVING (0x${response.toString("hex")})`,
  goCheck: { exactHex: SERVING.toString("hex") },
};

/** VerifyResponse: allowed (1) true, agent_did (3) the agent; on a denial, show reason (2). */
export function verifyGoCheck(did: string): GoCheck {
  return { fields: ["1=1", `3=s:${did}`], reportFields: ["2"] };
}

/** Verify of a valid token: correct only when allowed, for the agent the token was issued to. */
export function verifyTarget(options: {
  token: string;
  audience: string;
  scope: string;
  did: string;
}): Target {
  const request = create(VerifyRequestSchema, {
    token: options.token,
    audience: options.audience,
    requiredScopes: [options.scope],
  });
  return {
    name: "verify",
    path: "/gatehouse.v1.VerifyService/Verify",
    request: Buffer.from(toBinary(VerifyRequestSchema, request)),
    check: (bytes) => {
      const response = fromBinary(VerifyResponseSchema, bytes);
      if (!response.allowed) return `denied: ${Reason[response.reason] ?? response.reason}`;
      return response.agentDid === options.did ? undefined : "allowed, but for another agent";
    },
    goCheck: verifyGoCheck(options.did),
  };
}

/** The request the Check is about. */
const ROUTE_HOST = "api.example.com";
const ROUTE_PATH = "/orders?limit=10";
/** The header an allowed Check puts the agent's DID in. */
const AGENT_HEADER = "x-gatehouse-agent";

/**
 * Which request headers Envoy puts in the CheckRequest: "shipped" as infra/envoy/envoy.yaml
 * configures the filter (`allowed_headers`: authorization, dpop, gatehouse-amount; for a gRPC
 * authorization service Envoy adds no others), "all" as Envoy does without `allowed_headers`
 * (every header, pseudo-headers included).
 */
export type CheckHeaders = "shipped" | "all";

/**
 * ext_authz Check of the same bearer token, as Envoy builds it for `GET /orders?limit=10`:
 * lower-cased headers (`headers` decides which), host, path with query, scheme, request id,
 * protocol, the downstream's mTLS principal and the route's context extensions. Correct only
 * when allowed (status OK) with the agent in `x-gatehouse-agent`.
 */
export function checkTarget(
  options: { token: string; audience: string; scope: string; did: string },
  headers: CheckHeaders = "shipped",
): Target {
  const requestId = "6a1c3f9e-2b7d-4e21-9f0a-5c8d7e6b4a31";
  const request = create(CheckRequestSchema, {
    attributes: {
      source: { principal: "spiffe://cluster.local/ns/agents/sa/orders-client" },
      request: {
        http: {
          method: "GET",
          host: ROUTE_HOST,
          path: ROUTE_PATH,
          scheme: "https",
          headers: {
            authorization: `Bearer ${options.token}`,
            ...(headers === "all" && {
              ":authority": ROUTE_HOST,
              ":method": "GET",
              ":path": ROUTE_PATH,
              ":scheme": "https",
              accept: "application/json",
              "user-agent": "agent-sdk/1.0",
              "x-forwarded-proto": "https",
              "x-request-id": requestId,
            }),
          },
        },
      },
      contextExtensions: {
        gatehouse_audience: options.audience,
        gatehouse_required_scopes: options.scope,
      },
    },
  });
  // Fields the generated Envoy subset leaves out, as Envoy sends them: id (1), protocol (10).
  // Set on the message: `create` does not copy `$unknown` from its init.
  const http = request.attributes?.request?.http;
  if (!http) throw new Error("CheckRequest without http attributes");
  http.$unknown = [unknownString(1, requestId), unknownString(10, "HTTP/2")];
  return {
    name: headers === "all" ? "check-all" : "check",
    path: "/envoy.service.auth.v3.Authorization/Check",
    request: Buffer.from(toBinary(CheckRequestSchema, request)),
    check: (bytes) => {
      const response = fromBinary(CheckResponseSchema, bytes);
      const code = response.status?.code ?? 0;
      if (code !== 0 || response.httpResponse.case !== "okResponse") {
        return `denied: ${code} ${response.status?.message ?? ""}`.trim();
      }
      const agent = response.httpResponse.value.headers.find(
        (option) => option.header?.key === AGENT_HEADER,
      );
      return agent?.header?.value === options.did ? undefined : "allowed, but for another agent";
    },
    // CheckResponse: status (1).code (1) OK, and an ok_response (3) header (2) whose
    // HeaderValue (1) is key (1) x-gatehouse-agent, value (2) the agent.
    goCheck: {
      fields: ["1.1=0", `3.2.1{1=s:${AGENT_HEADER},2=s:${options.did}}`],
      reportFields: ["1.1", "1.2"],
    },
  };
}

function unknownString(no: number, value: string) {
  return {
    no,
    wireType: WireType.LengthDelimited,
    data: new BinaryWriter().string(value).finish(),
  };
}
