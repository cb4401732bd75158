/** The two measured RPCs, as raw bytes in and a correctness check on the bytes out. */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Reason } from "../gen/gatehouse/v1/errors_pb.js";
import { VerifyRequestSchema, VerifyResponseSchema } from "../gen/gatehouse/v1/verify_pb.js";
import type { Target } from "./load.js";

/** HealthCheckResponse{status: SERVING}: field 1, varint, value 1. */
const SERVING = Buffer.from([0x08, 0x01]);

/** The empty-RPC ceiling: an empty HealthCheckRequest (service "" = the whole server). */
export const healthTarget: Target = {
  name: "health",
  path: "/grpc.health.v1.Health/Check",
  request: Buffer.alloc(0),
  check: (response) =>
    response.equals(SERVING) ? undefined : `not SERVING (0x${response.toString("hex")})`,
};

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
  };
}
