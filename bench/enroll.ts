/**
 * Setup the benchmark needs before any load: the dev PKI (created here, in the parent, so the
 * parent holds the CA and can issue operator and agent certificates), one enrolled agent, and
 * one access token from a real Challenge → Submit → Token login.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ChallengeKind, GateService } from "../gen/gatehouse/v1/gate_pb.js";
import { RegistryService } from "../gen/gatehouse/v1/registry_pb.js";
import {
  agentDid,
  generateAgentKey,
  proofOfPossession,
  signChallenge,
} from "../src/client/agent-keys.js";
import type { ClientTls } from "../src/client/credentials.js";
import { createGrpcClient, type GrpcClientOptions } from "../src/client/grpc-client.js";
import { type DevPki, ensureDevPki } from "../src/pki/dev-pki.js";
import { issueCertificate } from "../src/pki/issue-certificate.js";
import type { PemPair } from "../src/pki/pem-pair.js";
import { type RoleIdentity, roleCertificateSpec } from "../src/pki/role-certificate.js";
import { openChannel } from "./load.js";
import { BENCH_TRUST_DOMAIN } from "./protocol.js";

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

/** Admin creates an operator, the operator registers an agent, the agent logs in once. */
export async function enrollAndLogin(
  pki: DevPki,
  address: string,
): Promise<{ did: string; token: string }> {
  const adminOptions = channelOptions(address, toClientTls(pki, pki.admin));
  const operatorTls = await issue(pki, { role: "operator", domain: OPERATOR_DOMAIN });
  const operatorOptions = channelOptions(address, operatorTls);
  const admin = createGrpcClient(RegistryService, adminOptions);
  const operator = createGrpcClient(RegistryService, operatorOptions);
  const key = generateAgentKey();
  const did = agentDid(key, OPERATOR_DOMAIN);
  try {
    await admin.createOperator({ domain: OPERATOR_DOMAIN, displayName: "Bench operator" });
    await operator.registerAgent({
      did,
      publicKey: key.publicKey,
      proofOfPossession: proofOfPossession(key, did, OPERATOR_DOMAIN),
      policy: { scopes: [SCOPE], audiences: [AUDIENCE] },
      displayName: "bench agent",
    });
  } finally {
    adminOptions.channel.close();
    operatorOptions.channel.close();
  }

  const gateOptions = channelOptions(address, await issue(pki, { role: "agent", did }));
  const gate = createGrpcClient(GateService, gateOptions);
  try {
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
    const { pass } = await gate.submit({
      challengeId: challenge.challengeId,
      answer: { case: "signature", value: { signature } },
    });
    const { accessToken } = await gate.token({ grant: { case: "pass", value: pass } });
    return { did, token: accessToken };
  } finally {
    gateOptions.channel.close();
  }
}
