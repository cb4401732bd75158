/**
 * Setup the benchmark needs before any load: the dev PKI (created here, in the parent, so the
 * parent holds the CA and can issue operator and agent certificates), enrolled agents, and
 * access tokens from real Challenge → Submit → Token logins (bearer or DPoP-bound).
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ChallengeKind, GateService } from "../gen/gatehouse/v1/gate_pb.js";
import { RegistryService } from "../gen/gatehouse/v1/registry_pb.js";
import {
  type AgentKey,
  agentDid,
  dpopProof,
  generateAgentKey,
  proofOfPossession,
  signChallenge,
} from "../src/client/agent-keys.js";
import type { ClientTls } from "../src/client/credentials.js";
import {
  createGrpcClient,
  type GrpcClient,
  type GrpcClientOptions,
} from "../src/client/grpc-client.js";
import { TOKEN_PATH } from "../src/dpop/token-binding.js";
import { type DevPki, ensureDevPki } from "../src/pki/dev-pki.js";
import { issueCertificate } from "../src/pki/issue-certificate.js";
import type { PemPair } from "../src/pki/pem-pair.js";
import { type RoleIdentity, roleCertificateSpec } from "../src/pki/role-certificate.js";
import { openChannel } from "./load.js";
import { BENCH_ISSUER, BENCH_TRUST_DOMAIN } from "./protocol.js";

export const AUDIENCE = "https://api.example.com";
export const SCOPE = "orders:read";
const OPERATOR_DOMAIN = "bench-operator.example.com";

/** The dev PKI under `<dataDir>/pki`, exactly where the server's dev mode looks for it. */
export function createPki(dataDir: string): Promise<DevPki> {
  return ensureDevPki(`${dataDir}/pki`, { trustDomain: BENCH_TRUST_DOMAIN });
}

export function toClientTls(pki: DevPki, pair: PemPair): ClientTls {
  return {
    cert: Buffer.from(pair.certPem),
    key: Buffer.from(pair.keyPem),
    ca: Buffer.from(pki.ca.certPem),
  };
}

async function issue(pki: DevPki, identity: RoleIdentity): Promise<ClientTls> {
  const spec = roleCertificateSpec(BENCH_TRUST_DOMAIN, identity);
  return toClientTls(pki, await issueCertificate({ ca: pki.ca, ...spec, validityDays: 1 }));
}

/** Client options with a channel of the benchmark's kind (see `openChannel`); close it after. */
function channelOptions(address: string, tls: ClientTls) {
  return { address, tls, channel: openChannel(address, tls) } satisfies GrpcClientOptions;
}

export interface BenchAgent {
  readonly key: AgentKey;
  readonly did: string;
  /** Its own client certificate (role agent, its DID). */
  readonly tls: ClientTls;
}

export type GateClient = GrpcClient<(typeof GateService)["method"]>;

/** Admin creates the operator `domain`, which registers `count` agents, each with a cert. */
export async function enrollAgents(
  pki: DevPki,
  address: string,
  count: number,
  domain = OPERATOR_DOMAIN,
): Promise<BenchAgent[]> {
  const adminOptions = channelOptions(address, toClientTls(pki, pki.admin));
  const operatorOptions = channelOptions(address, await issue(pki, { role: "operator", domain }));
  const admin = createGrpcClient(RegistryService, adminOptions);
  const operator = createGrpcClient(RegistryService, operatorOptions);
  try {
    await admin.createOperator({ domain, displayName: "Bench operator", attestDomain: true });
    const agents: BenchAgent[] = [];
    for (let i = 0; i < count; i++) {
      const key = generateAgentKey();
      const did = agentDid(key, domain);
      await operator.registerAgent({
        did,
        publicKey: key.publicKey,
        proofOfPossession: proofOfPossession(key, did, domain),
        policy: { scopes: [SCOPE], audiences: [AUDIENCE] },
        displayName: `bench agent ${i}`,
      });
      agents.push({ key, did, tls: await issue(pki, { role: "agent", did }) });
    }
    return agents;
  } finally {
    adminOptions.channel.close();
    operatorOptions.channel.close();
  }
}

/** The `htu` of a DPoP proof sent to Token: the token endpoint under the issuer. */
const TOKEN_HTU = `${BENCH_ISSUER}${TOKEN_PATH}`;

/**
 * Challenge → Submit → Token (signature kind); returns the access token. With `dpop`, the
 * Token request carries a fresh proof, so the token is bound to the agent's key.
 */
export async function login(
  gate: GateClient,
  agent: BenchAgent,
  options: { readonly dpop?: boolean } = {},
): Promise<string> {
  const { key, did } = agent;
  const scopes = [SCOPE];
  const challenge = await gate.challenge({
    did,
    kind: ChallengeKind.SIGNATURE,
    scopes,
    audience: AUDIENCE,
  });
  if (challenge.body.case !== "signature" || !challenge.expiresAt) {
    throw new Error("expected a signature challenge");
  }
  const signature = signChallenge(key, challenge.body.value, {
    challengeId: challenge.challengeId,
    did,
    scopes,
    audience: AUDIENCE,
    expiresAtMs: timestampMs(challenge.expiresAt),
  });
  const { passToken: pass } = await gate.submit({
    challengeId: challenge.challengeId,
    answer: { case: "signature", value: { signature } },
  });
  const { accessToken } = await gate.token({
    grant: { case: "passToken", value: pass },
    ...(options.dpop && { dpopProof: dpopProof(key, { htm: "POST", htu: TOKEN_HTU }) }),
  });
  return accessToken;
}

/** A gate client on a connection of the agent's own; close its channel after. */
export function gateClient(address: string, agent: BenchAgent) {
  const options = channelOptions(address, agent.tls);
  return { gate: createGrpcClient(GateService, options), channel: options.channel };
}
