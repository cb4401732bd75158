import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type {
  VerifyRequestSchema,
  VerifyResponse,
} from "../../../../gen/gatehouse/v1/verify_pb.js";
import type { VerifyInput } from "../../../../src/verify/types.js";
import { refused, type VerifyOutcome } from "./outcome.js";

/** A VerifyService client as Connect or grpc-js exposes it (only Verify is used). */
export interface VerifyRpcClient {
  verify(request: MessageInitShape<typeof VerifyRequestSchema>): Promise<VerifyResponse>;
}

/** Gatehouse's Verify: every check, including revocation, status, policy and envelopes. */
export async function verifyOnline(
  client: VerifyRpcClient,
  input: VerifyInput,
): Promise<VerifyOutcome> {
  const response = await client.verify({
    token: input.token,
    audience: input.audience,
    requiredScopes: [...input.requiredScopes],
    ...(input.dpopProof !== undefined && { dpopProof: input.dpopProof }),
    ...(input.httpMethod !== undefined && { httpMethod: input.httpMethod }),
    ...(input.httpUrl !== undefined && { httpUrl: input.httpUrl }),
  });
  if (!response.allowed) return refused(response.reason, response.dpopNonce);
  return {
    allowed: true,
    token: {
      agentDid: response.agentDid,
      actorDid: response.actorDid,
      operatorDomain: response.operatorDomain,
      scopes: response.scopes,
      expiresAtMs: response.expiresAt ? timestampMs(response.expiresAt) : 0,
      tokenId: response.tokenId,
      source: "online",
    },
  };
}
