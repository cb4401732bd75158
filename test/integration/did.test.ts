import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { AgentStatus } from "../../gen/gatehouse/v1/resources_pb.js";
import {
  type AgentKey,
  agentDidKey,
  generateAgentKey,
  proofOfPossession,
  rotationSignatures,
} from "../../src/client/agent-keys.js";
import { ed25519PublicKeyMultibase } from "../../src/crypto/did-key.js";
import { ed25519Thumbprint } from "../../src/crypto/jose/thumbprint.js";
import { loadDidKeyVectors, vectorKey } from "../support/did-key-vectors.js";
import { expectReason } from "../support/errors.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
  signedChallenge,
} from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const POLICY = { scopes: ["orders:read"], audiences: [AUDIENCE] };

interface VerificationMethod {
  id: string;
  type: string;
  controller: string;
  publicKeyMultibase: string;
  revoked?: string;
}
interface DidDocument {
  "@context": string[];
  id: string;
  verificationMethod: VerificationMethod[];
  authentication: string[];
  assertionMethod: string[];
}

describe.each(STORE_KINDS)(
  "DIDs: did:key, ResolveDid, RotateAgentKey, DeleteAgent (%s store)",
  (storeKind) => {
    const redisUrl = useRedis();
    let gh: TestGatehouse;
    let agent: Enrolled;
    let operator: Clients;
    let admin: Clients;
    let verifier: Clients;
    let stranger: Clients;

    beforeAll(async () => {
      gh = await startTestGatehouse({
        storeKind,
        ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
      });
      agent = await enrollAgent(gh);
      operator = grpcClients(gh, agent.operatorTls);
      admin = grpcClients(gh, agent.adminTls);
      verifier = grpcClients(gh, agent.verifierTls);
      // Another operator with its own domain.
      const other = await enrollAgent(gh);
      stranger = grpcClients(gh, other.operatorTls);
    });
    afterAll(async () => {
      for (const clients of [operator, admin, verifier, stranger]) clients?.close();
      await gh?.dispose();
    });

    async function registerDidKey(key: AgentKey = generateAgentKey()): Promise<Enrolled> {
      const did = agentDidKey(key);
      const { agent: created } = await operator.registry.registerAgent({
        did,
        publicKey: key.publicKey,
        proofOfPossession: proofOfPossession(key, did, agent.domain),
        policy: POLICY,
      });
      expect(created?.operatorDomain).toBe(agent.domain);
      const agentTls = await gh.clientTls({ role: "agent", did });
      return { ...agent, key, did, agentTls };
    }

    async function resolve(did: string): Promise<{ document: DidDocument; deactivated: boolean }> {
      const response = await verifier.registry.resolveDid({ did });
      return {
        document: response.document as unknown as DidDocument,
        deactivated: response.deactivated,
      };
    }

    async function rotate(enrolled: Enrolled, newKey: AgentKey) {
      rememberSecret(newKey.privateKey.export({ format: "pem", type: "pkcs8" }).toString());
      return operator.registry.rotateAgentKey({
        did: enrolled.did,
        newPublicKey: newKey.publicKey,
        ...rotationSignatures(enrolled.key, newKey, enrolled.did, enrolled.domain),
      });
    }

    it("registers a did:key agent under the caller's domain, and it logs in", async () => {
      const key = generateAgentKey();
      rememberSecret(key.privateKey.export({ format: "pem", type: "pkcs8" }).toString());
      const enrolled = await registerDidKey(key);
      const { agent: fetched } = await operator.registry.getAgent({ did: enrolled.did });
      expect(fetched?.operatorDomain).toBe(agent.domain);
      const { agents } = await operator.registry.listAgents({});
      expect(agents.map((a) => a.did)).toContain(enrolled.did);

      const gate = grpcClients(gh, enrolled.agentTls);
      try {
        const token = await login(gate.gate, enrolled);
        const verdict = await verifier.verify.verify({
          token,
          audience: AUDIENCE,
          requiredScopes: ["orders:read"],
        });
        expect(verdict.allowed, String(verdict.reason)).toBe(true);
      } finally {
        gate.close();
      }
    });

    it("refuses a did:key that does not encode the request's key", async () => {
      const key = generateAgentKey();
      const did = agentDidKey(generateAgentKey());
      await expectReason(
        operator.registry.registerAgent({
          did,
          publicKey: key.publicKey,
          proofOfPossession: proofOfPossession(key, did, agent.domain),
          policy: POLICY,
        }),
        Reason.DID_KEY_MISMATCH,
      );
    });

    it("keeps did:key agents to their operator: missing and foreign look alike", async () => {
      const enrolled = await registerDidKey();
      const missing = agentDidKey(generateAgentKey());
      for (const did of [enrolled.did, missing]) {
        await expectReason(stranger.registry.getAgent({ did }), Reason.OPERATOR_MISMATCH);
        await expectReason(stranger.registry.suspendAgent({ did }), Reason.OPERATOR_MISMATCH);
        await expectReason(stranger.registry.deleteAgent({ did }), Reason.OPERATOR_MISMATCH);
      }
      // The owner, admins and verifiers still see it.
      const { agent: suspended } = await operator.registry.suspendAgent({ did: enrolled.did });
      expect(suspended?.status).toBe(AgentStatus.SUSPENDED);
      await expect(admin.registry.getAgent({ did: enrolled.did })).resolves.toBeDefined();
      await expectReason(admin.registry.getAgent({ did: missing }), Reason.AGENT_NOT_FOUND);
    });

    it("resolves did:key documents that match the published W3C CCG vectors", async () => {
      for (const vector of loadDidKeyVectors()) {
        const key = vectorKey(vector);
        expect(agentDidKey(key)).toBe(vector.did);
        await registerDidKey(key);
        const { document, deactivated } = await resolve(vector.did);
        expect(deactivated).toBe(false);
        const multibase = vector.did.slice("did:key:".length);
        expect(document).toEqual({
          "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/ed25519-2020/v1",
          ],
          id: vector.did,
          verificationMethod: [
            {
              id: vector.verificationMethodId,
              type: "Ed25519VerificationKey2020",
              controller: vector.did,
              publicKeyMultibase: multibase,
            },
          ],
          authentication: [vector.verificationMethodId],
          assertionMethod: [vector.verificationMethodId],
        });
      }
    });

    it("resolves a did:agent document, for every role", async () => {
      const multibase = ed25519PublicKeyMultibase(agent.key.publicKey);
      const methodId = `${agent.did}#${multibase}`;
      for (const clients of [verifier, operator, stranger, admin]) {
        const response = await clients.registry.resolveDid({ did: agent.did });
        const document = response.document as unknown as DidDocument;
        expect(document.id).toBe(agent.did);
        expect(document.verificationMethod).toEqual([
          {
            id: methodId,
            type: "Ed25519VerificationKey2020",
            controller: agent.did,
            publicKeyMultibase: multibase,
          },
        ]);
        expect(document.authentication).toEqual([methodId]);
        expect(document.assertionMethod).toEqual([methodId]);
      }
      const agentClients = grpcClients(gh, agent.agentTls);
      try {
        const response = await agentClients.registry.resolveDid({ did: agent.did });
        expect((response.document as unknown as DidDocument).id).toBe(agent.did);
      } finally {
        agentClients.close();
      }
    });

    it("answers AGENT_NOT_FOUND for an unknown DID", async () => {
      await expectReason(
        verifier.registry.resolveDid({ did: `did:agent:${agent.domain}:${"0".repeat(32)}` }),
        Reason.AGENT_NOT_FOUND,
      );
      await expectReason(
        verifier.registry.resolveDid({ did: agentDidKey(generateAgentKey()) }),
        Reason.AGENT_NOT_FOUND,
      );
    });

    it("rotates a key: the old key stops signing, the new one signs, the DID stays", async () => {
      const enrolled = await enrollAgent(gh);
      const owner = grpcClients(gh, enrolled.operatorTls);
      const oldGate = grpcClients(gh, enrolled.agentTls);
      try {
        const newKey = generateAgentKey();
        rememberSecret(newKey.privateKey.export({ format: "pem", type: "pkcs8" }).toString());
        const { agent: rotated } = await owner.registry.rotateAgentKey({
          did: enrolled.did,
          newPublicKey: newKey.publicKey,
          ...rotationSignatures(enrolled.key, newKey, enrolled.did, enrolled.domain),
        });
        expect(rotated?.did).toBe(enrolled.did);
        expect(Buffer.from(rotated?.publicKey ?? []).equals(Buffer.from(newKey.publicKey))).toBe(
          true,
        );
        expect(rotated?.keys.map((k) => Buffer.from(k.publicKey).toString("hex"))).toEqual([
          Buffer.from(enrolled.key.publicKey).toString("hex"),
          Buffer.from(newKey.publicKey).toString("hex"),
        ]);
        expect(rotated?.keys[0]?.retireTime).toBeDefined();
        expect(rotated?.keys[1]?.retireTime).toBeUndefined();

        // The old key can no longer answer a challenge…
        const stale = await signedChallenge(oldGate.gate, enrolled);
        await expectReason(
          oldGate.gate.submit({
            challengeId: stale.challengeId,
            answer: { case: "signature", value: { signature: stale.signature } },
          }),
          Reason.ANSWER_INVALID,
        );
        // …the new one can (same DID, same certificate identity).
        const token = await login(oldGate.gate, { ...enrolled, key: newKey });
        const verdict = await verifier.verify.verify({ token, audience: AUDIENCE });
        expect(verdict.allowed, String(verdict.reason)).toBe(true);

        // The document lists both keys; only the new one authenticates.
        const oldId = `${enrolled.did}#${ed25519PublicKeyMultibase(enrolled.key.publicKey)}`;
        const newId = `${enrolled.did}#${ed25519PublicKeyMultibase(newKey.publicKey)}`;
        const { document } = await resolve(enrolled.did);
        expect(document.verificationMethod.map((m) => m.id)).toEqual([oldId, newId]);
        const [oldMethod, newMethod] = document.verificationMethod;
        expect(Number.isNaN(Date.parse(oldMethod?.revoked ?? ""))).toBe(false);
        expect(newMethod?.revoked).toBeUndefined();
        expect(document.authentication).toEqual([newId]);
        expect(document.assertionMethod).toEqual([newId]);

        // The retired key can never come back, neither to this agent nor to a new one.
        await expectReason(
          owner.registry.rotateAgentKey({
            did: enrolled.did,
            newPublicKey: enrolled.key.publicKey,
            ...rotationSignatures(newKey, enrolled.key, enrolled.did, enrolled.domain),
          }),
          Reason.AGENT_ALREADY_EXISTS,
        );
      } finally {
        owner.close();
        oldGate.close();
      }
    });

    it("refuses a rotation authorized by a revoked key (a thief cannot rotate to theirs)", async () => {
      const enrolled = await enrollAgent(gh);
      const owner = grpcClients(gh, enrolled.operatorTls);
      try {
        await owner.registry.revoke({
          target: { case: "agentKeyThumbprint", value: ed25519Thumbprint(enrolled.key.publicKey) },
        });
        const stolen = generateAgentKey();
        await expectReason(
          owner.registry.rotateAgentKey({
            did: enrolled.did,
            newPublicKey: stolen.publicKey,
            ...rotationSignatures(enrolled.key, stolen, enrolled.did, enrolled.domain),
          }),
          Reason.AGENT_KEY_REVOKED,
        );
      } finally {
        owner.close();
      }
    });

    it("refuses rotations with a bad current-key signature, a bad new-key proof or a used key", async () => {
      const enrolled = await enrollAgent(gh);
      const owner = grpcClients(gh, enrolled.operatorTls);
      try {
        const newKey = generateAgentKey();
        const good = rotationSignatures(enrolled.key, newKey, enrolled.did, enrolled.domain);
        const forged = rotationSignatures(newKey, newKey, enrolled.did, enrolled.domain);
        const base = { did: enrolled.did, newPublicKey: newKey.publicKey, ...good };
        let error = await expectReason(
          owner.registry.rotateAgentKey({
            ...base,
            currentKeySignature: forged.currentKeySignature,
          }),
          Reason.PROOF_OF_POSSESSION_INVALID,
        );
        expect(error.field).toBe("current_key_signature");
        const other = generateAgentKey();
        error = await expectReason(
          owner.registry.rotateAgentKey({
            ...base,
            newKeyProof: rotationSignatures(enrolled.key, other, enrolled.did, enrolled.domain)
              .newKeyProof,
          }),
          Reason.PROOF_OF_POSSESSION_INVALID,
        );
        expect(error.field).toBe("new_key_proof");
        // A signature over another operator's input does not pass either.
        await expectReason(
          owner.registry.rotateAgentKey({
            ...base,
            ...rotationSignatures(enrolled.key, newKey, enrolled.did, "elsewhere.example"),
          }),
          Reason.PROOF_OF_POSSESSION_INVALID,
        );
        // A key registered to another agent (whose holder signs) is refused.
        error = await expectReason(
          owner.registry.rotateAgentKey({
            did: enrolled.did,
            newPublicKey: agent.key.publicKey,
            ...rotationSignatures(enrolled.key, agent.key, enrolled.did, enrolled.domain),
          }),
          Reason.AGENT_ALREADY_EXISTS,
        );
        // Nothing changed.
        const { agent: unchanged } = await owner.registry.getAgent({ did: enrolled.did });
        expect(unchanged?.keys.length).toBe(1);
        // Another operator cannot rotate it; the owner's admin can.
        await expectReason(stranger.registry.rotateAgentKey({ ...base }), Reason.OPERATOR_MISMATCH);
        const { agent: rotated } = await admin.registry.rotateAgentKey(base);
        expect(rotated?.keys.length).toBe(2);
      } finally {
        owner.close();
      }
    });

    it("refuses to rotate a did:key agent (its DID is its key)", async () => {
      const enrolled = await registerDidKey();
      const newKey = generateAgentKey();
      await expectReason(rotate(enrolled, newKey), Reason.DID_KEY_MISMATCH);
    });

    it("deletes an agent as a tombstone: its tokens fail, its DID and key stay reserved", async () => {
      const enrolled = await enrollAgent(gh);
      const owner = grpcClients(gh, enrolled.operatorTls);
      const gate = grpcClients(gh, enrolled.agentTls);
      try {
        const token = await login(gate.gate, enrolled);
        const { agent: deleted } = await owner.registry.deleteAgent({
          did: enrolled.did,
          reason: "decommissioned",
        });
        expect(deleted?.status).toBe(AgentStatus.DELETED);

        const verdict = await verifier.verify.verify({ token, audience: AUDIENCE });
        expect(verdict.allowed).toBe(false);
        expect(verdict.reason).toBe(Reason.AGENT_REVOKED);
        await expectReason(signedChallenge(gate.gate, enrolled), Reason.AGENT_REVOKED);

        const { agent: fetched } = await owner.registry.getAgent({ did: enrolled.did });
        expect(fetched?.status).toBe(AgentStatus.DELETED);
        const { agents } = await owner.registry.listAgents({ status: AgentStatus.DELETED });
        expect(agents.map((a) => a.did)).toEqual([enrolled.did]);
        const resolved = await resolve(enrolled.did);
        expect(resolved.deactivated).toBe(true);
        expect(resolved.document.authentication).toEqual([]);

        // Not reversible, not re-registrable, not rotatable.
        await expectReason(
          owner.registry.reactivateAgent({ did: enrolled.did }),
          Reason.AGENT_REVOKED,
        );
        await expectReason(
          owner.registry.registerAgent({
            did: enrolled.did,
            publicKey: enrolled.key.publicKey,
            proofOfPossession: proofOfPossession(enrolled.key, enrolled.did, enrolled.domain),
            policy: POLICY,
          }),
          Reason.AGENT_ALREADY_EXISTS,
        );
        const didKey = agentDidKey(enrolled.key);
        await expectReason(
          owner.registry.registerAgent({
            did: didKey,
            publicKey: enrolled.key.publicKey,
            proofOfPossession: proofOfPossession(enrolled.key, didKey, enrolled.domain),
            policy: POLICY,
          }),
          Reason.AGENT_ALREADY_EXISTS,
        );
        const newKey = generateAgentKey();
        await expectReason(
          owner.registry.rotateAgentKey({
            did: enrolled.did,
            newPublicKey: newKey.publicKey,
            ...rotationSignatures(enrolled.key, newKey, enrolled.did, enrolled.domain),
          }),
          Reason.AGENT_REVOKED,
        );
      } finally {
        owner.close();
        gate.close();
      }
    });
  },
);
