import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type AgentKey,
  agentDid,
  type GateClient,
  generateAgentKey,
  loginWithChallenge,
  proofOfPossession,
  signChallenge,
} from "../../clients/typescript/src/agent/index.js";
import type { ClientTls } from "../../clients/typescript/src/index.js";
import { createGrpcClient, type GrpcClient } from "../../clients/typescript/src/index.js";
import { ChallengeKind, GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { GrantService } from "../../gen/gatehouse/v1/grants_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
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
export function grpcClients(gh: Pick<TestGatehouse, "grpcAddress">, tls: ClientTls): Clients {
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
  gh: Pick<TestGatehouse, "grpcAddress" | "clientTls">,
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

/** The gate as any transport's client exposes it (grpc-js or Connect): the SDK's GateClient. */
export type GateLike = GateClient;

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

/**
 * The gate with every secret that crosses it remembered for the log scan (signatures, passes,
 * tokens), so flows run by the SDK still have their secrets checked.
 */
export function recordingGate(gate: GateLike): GateLike {
  return {
    challenge: (request) => gate.challenge(request),
    async submit(request) {
      const answer = request.answer;
      if (answer?.case === "signature" && answer.value.signature) {
        rememberSecret(Buffer.from(answer.value.signature));
      }
      const response = await gate.submit(request);
      rememberSecret(response.passToken);
      return response;
    },
    async token(request) {
      const response = await gate.token(request);
      rememberSecret(response.accessToken);
      return response;
    },
  };
}

/** Challenge → Submit → Token by the SDK; returns the access token. */
export async function login(
  gate: GateLike,
  agent: Enrolled,
  scopes: string[] = ["orders:read"],
  audience = AUDIENCE,
): Promise<string> {
  const token = await loginWithChallenge(recordingGate(gate), {
    key: agent.key,
    did: agent.did,
    scopes,
    audience,
  });
  return token.accessToken;
}
