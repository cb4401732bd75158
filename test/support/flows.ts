import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  ChallengeKind,
  type ChallengeRequestSchema,
  type ChallengeResponse,
  GateService,
  type SubmitRequestSchema,
  type SubmitResponse,
  type TokenRequestSchema,
  type TokenResponse,
} from "../../gen/gatehouse/v1/gate_pb.js";
import { GrantService } from "../../gen/gatehouse/v1/grants_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import {
  type AgentKey,
  agentDid,
  generateAgentKey,
  proofOfPossession,
  signChallenge,
} from "../../src/client/agent-keys.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { createGrpcClient, type GrpcClient } from "../../src/client/grpc-client.js";
import type { TestGatehouse } from "./gatehouse.js";
import { rememberSecret } from "./secrets.js";

export const AUDIENCE = "https://api.example.com";
export const SCOPES = ["orders:read", "orders:write"];

export interface Clients {
  readonly gate: GrpcClient<(typeof GateService)["method"]>;
  readonly verify: GrpcClient<(typeof VerifyService)["method"]>;
  readonly registry: GrpcClient<(typeof RegistryService)["method"]>;
  readonly grants: GrpcClient<(typeof GrantService)["method"]>;
  close(): void;
}

/** grpc-js clients of every service, presenting `tls`. */
export function grpcClients(gh: TestGatehouse, tls: ClientTls): Clients {
  const options = { address: gh.grpcAddress, tls };
  const gate = createGrpcClient(GateService, options);
  const verify = createGrpcClient(VerifyService, options);
  const registry = createGrpcClient(RegistryService, options);
  const grants = createGrpcClient(GrantService, options);
  return {
    gate,
    verify,
    registry,
    grants,
    close() {
      gate.close();
      verify.close();
      registry.close();
      grants.close();
    },
  };
}

export interface Enrolled {
  readonly domain: string;
  readonly key: AgentKey;
  readonly did: string;
  readonly agentTls: ClientTls;
  readonly operatorTls: ClientTls;
  readonly adminTls: ClientTls;
  readonly verifierTls: ClientTls;
}

let counter = 0;

/**
 * Admin creates an operator; the operator registers a fresh agent with a policy. With
 * `sameOperatorAs`, no operator is created: the agent joins that agent's operator.
 */
export async function enrollAgent(
  gh: TestGatehouse,
  policy: { scopes?: string[]; audiences?: string[] } = {},
  sameOperatorAs?: Enrolled,
): Promise<Enrolled> {
  counter += 1;
  const domain = sameOperatorAs?.domain ?? `op${counter}-${process.pid}.example.com`;
  const adminTls = await gh.clientTls({ role: "admin", name: "test-admin" });
  const operatorTls = await gh.clientTls({ role: "operator", domain });
  const verifierTls = await gh.clientTls({ role: "verifier", name: "test-verifier" });
  const admin = grpcClients(gh, adminTls);
  const operator = grpcClients(gh, operatorTls);
  try {
    if (!sameOperatorAs) {
      await admin.registry.createOperator({
        domain,
        displayName: "Test operator",
        attestDomain: true,
      });
    }
    const key = generateAgentKey();
    const did = agentDid(key, domain);
    rememberSecret(key.privateKey.export({ format: "pem", type: "pkcs8" }).toString());
    await operator.registry.registerAgent({
      did,
      publicKey: key.publicKey,
      proofOfPossession: proofOfPossession(key, did, domain),
      policy: { scopes: policy.scopes ?? SCOPES, audiences: policy.audiences ?? [AUDIENCE] },
      displayName: "test agent",
    });
    const agentTls = await gh.clientTls({ role: "agent", did });
    return { domain, key, did, agentTls, operatorTls, adminTls, verifierTls };
  } finally {
    admin.close();
    operator.close();
  }
}

type Init<T extends DescMessage> = MessageInitShape<T>;

/** The gate as any transport's client exposes it (grpc-js or Connect). */
export interface GateLike {
  challenge(request: Init<typeof ChallengeRequestSchema>): Promise<ChallengeResponse>;
  submit(request: Init<typeof SubmitRequestSchema>): Promise<SubmitResponse>;
  token(request: Init<typeof TokenRequestSchema>): Promise<TokenResponse>;
}

/** Asks for a signature challenge and signs it (after rebuilding what is signed). */
export async function signedChallenge(
  gate: Pick<GateLike, "challenge">,
  agent: Enrolled,
  scopes: string[] = ["orders:read"],
  audience = AUDIENCE,
) {
  const challenge = await gate.challenge({
    did: agent.did,
    kind: ChallengeKind.SIGNATURE,
    scopes,
    audience,
  });
  if (challenge.body.case !== "signature" || !challenge.expiresAt) {
    throw new Error("expected a signature challenge");
  }
  const signature = signChallenge(agent.key, challenge.body.value, {
    challengeId: challenge.challengeId,
    did: agent.did,
    scopes,
    audience,
    expiresAtMs: timestampMs(challenge.expiresAt),
  });
  rememberSecret(challenge.challengeId, signature);
  return { challengeId: challenge.challengeId, signature };
}

/** Challenge → Submit → Token; returns the access token. */
export async function login(
  gate: GateLike,
  agent: Enrolled,
  scopes: string[] = ["orders:read"],
  audience = AUDIENCE,
): Promise<string> {
  const { challengeId, signature } = await signedChallenge(gate, agent, scopes, audience);
  const { pass } = await gate.submit({
    challengeId,
    answer: { case: "signature", value: { signature } },
  });
  const token = await gate.token({ grant: { case: "pass", value: pass } });
  rememberSecret(pass, token.accessToken);
  return token.accessToken;
}
