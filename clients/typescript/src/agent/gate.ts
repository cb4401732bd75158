import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type {
  ChallengeRequestSchema,
  ChallengeResponse,
  SubmitRequestSchema,
  SubmitResponse,
  TokenRequestSchema,
  TokenResponse,
} from "../../../../gen/gatehouse/v1/gate_pb.js";
import type { IssuedToken } from "./token-cache.js";

type Init<T extends DescMessage> = MessageInitShape<T>;

/**
 * The three GateService calls an agent makes, as any client exposes them: a Connect
 * `Client<typeof GateService>` (createConnectClient) or a grpc-js one (createGrpcClient).
 */
export interface GateClient {
  challenge(request: Init<typeof ChallengeRequestSchema>): Promise<ChallengeResponse>;
  submit(request: Init<typeof SubmitRequestSchema>): Promise<SubmitResponse>;
  token(request: Init<typeof TokenRequestSchema>): Promise<TokenResponse>;
}

/** A TokenResponse as the token cache keeps it. */
export function issuedToken(response: TokenResponse): IssuedToken {
  return {
    accessToken: response.accessToken,
    tokenType: response.tokenType,
    expiresAtMs: response.expiresAt ? timestampMs(response.expiresAt) : 0,
    scopes: response.scopes,
  };
}
