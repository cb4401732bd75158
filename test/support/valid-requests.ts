import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import { CapabilityAction, DomainVerificationMethod } from "../../gen/gatehouse/v1/resources_pb.js";
import { AUDIENCE } from "./flows.js";

const DID = "did:agent:example.com:0123456789abcdef0123456789abcdef";
const OPAQUE = "A".repeat(43);
const DOMAIN = "example.com";

/**
 * One valid request per RPC, keyed by method name: input-validation.test.ts breaks one field
 * of each at a time; signed-requests.test.ts sends each as it is. The requests are valid, not
 * meaningful: they name an agent, grant or operator that does not exist.
 */
export const VALID_REQUESTS: Readonly<Record<string, Record<string, unknown>>> = {
  Challenge: { did: DID, kind: ChallengeKind.SIGNATURE, scopes: ["a"], audience: AUDIENCE },
  Submit: {
    challengeId: OPAQUE,
    answer: { case: "signature", value: { signature: new Uint8Array(64) } },
  },
  Token: { grant: { case: "passToken", value: OPAQUE } },
  Verify: { token: "a.b.c", audience: AUDIENCE, requiredScopes: ["a"] },
  GetJwks: {},
  GetIssuerMetadata: {},
  RotateSigningKey: { alg: "EdDSA" },
  ListSigningKeys: {},
  CreateOperator: { domain: DOMAIN, displayName: "x" },
  RegisterAgent: {
    did: DID,
    publicKey: new Uint8Array(32),
    proofOfPossession: new Uint8Array(64),
    policy: { scopes: ["a"], audiences: [AUDIENCE] },
  },
  GetAgent: { did: DID },
  ListAgents: { pageSize: 10 },
  UpdateAgentPolicy: { did: DID, policy: { scopes: ["a"], audiences: [AUDIENCE] } },
  SuspendAgent: { did: DID },
  ReactivateAgent: { did: DID },
  ResolveDid: { did: DID },
  RotateAgentKey: {
    did: DID,
    newPublicKey: new Uint8Array(32),
    newKeyProof: new Uint8Array(64),
    currentKeySignature: new Uint8Array(64),
  },
  DeleteAgent: { did: DID, reason: "x" },
  GetOperator: { domain: DOMAIN },
  VerifyOperatorDomain: { domain: DOMAIN, method: DomainVerificationMethod.DNS_TXT },
  SetOperatorKey: { domain: DOMAIN, publicKey: new Uint8Array(32) },
  Revoke: { target: { case: "tokenId", value: "abc" } },
  RequestGrant: {
    audience: AUDIENCE,
    capabilities: [{ action: CapabilityAction.READ }],
    reason: "x",
  },
  GetGrant: { id: OPAQUE },
  ListGrants: { pageSize: 10 },
  RevokeGrant: { id: OPAQUE },
  CreateApproverInvite: { displayName: "x" },
  ListApprovers: {},
  RemoveApprover: { id: OPAQUE },
  GetAuditKeys: {},
  ListAuditEvents: { pageSize: 10 },
  VerifyAuditChain: {},
  PruneAuditLog: { throughSequence: 1n, throughHash: new Uint8Array(32) },
};
