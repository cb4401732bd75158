import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  agentDid,
  generateAgentKey,
  proofOfPossession,
} from "../../clients/typescript/src/agent/index.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, enrollAgent, grpcClients, login, signedChallenge } from "../support/flows.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

describe.each(STORE_KINDS)("Challenge / Submit / Token security (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const env = useGatehouse({ storeKind, redisUrl, clock: true });

  const submit = (challengeId: string, signature: Uint8Array, gate = env.clients.gate) =>
    gate.submit({ challengeId, answer: { case: "signature", value: { signature } } });

  it("refuses a submission from another client certificate, and consumes the challenge", async () => {
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    // Same DID, same CA, different certificate: a different caller identity.
    const other = grpcClients(
      env.gh,
      await env.gh.clientTls({ role: "agent", did: env.agent.did }),
    );
    try {
      await expectReason(
        submit(challengeId, signature, other.gate),
        Reason.CHALLENGE_IDENTITY_MISMATCH,
        PERMISSION_DENIED,
      );
      await expectReason(submit(challengeId, signature), Reason.CHALLENGE_ALREADY_USED);
    } finally {
      other.close();
    }
  });

  it("refuses a wrong signature and consumes the challenge on that first attempt", async () => {
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    const wrong = Buffer.from(signature);
    wrong[0] = (wrong[0] ?? 0) ^ 0xff;
    await expectReason(submit(challengeId, wrong), Reason.ANSWER_INVALID, UNAUTHENTICATED);
    await expectReason(submit(challengeId, signature), Reason.CHALLENGE_ALREADY_USED);
  });

  it("refuses a signature over another challenge's input", async () => {
    const first = await signedChallenge(env.clients.gate, env.agent);
    const second = await signedChallenge(env.clients.gate, env.agent);
    await expectReason(submit(second.challengeId, first.signature), Reason.ANSWER_INVALID);
  });

  it("accepts the same correct submission once, then says already used", async () => {
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    const { passToken: pass } = await submit(challengeId, signature);
    expect(pass).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expectReason(submit(challengeId, signature), Reason.CHALLENGE_ALREADY_USED);
  });

  it("lets exactly one of 50 concurrent submissions of one challenge pass", async () => {
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => submit(challengeId, signature)),
    );
    const passed = results.filter((r) => r.status === "fulfilled");
    expect(passed).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") {
        expect(result.reason.reason).toBe(Reason.CHALLENGE_ALREADY_USED);
      }
    }
  });

  it("refuses an unknown challenge id", async () => {
    await expectReason(submit("A".repeat(43), new Uint8Array(64)), Reason.CHALLENGE_NOT_FOUND);
  });

  it("refuses an expired challenge (injected clock)", async () => {
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    env.clock.advance(61_000);
    await expectReason(submit(challengeId, signature), Reason.CHALLENGE_EXPIRED);
    await expectReason(submit(challengeId, signature), Reason.CHALLENGE_ALREADY_USED);
  });

  it("redeems a pass once; the second redemption is refused", async () => {
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    const { passToken: pass } = await submit(challengeId, signature);
    const token = await env.clients.gate.token({ grant: { case: "passToken", value: pass } });
    expect(token.tokenType).toBe("Bearer");
    await expectReason(
      env.clients.gate.token({ grant: { case: "passToken", value: pass } }),
      Reason.PASS_ALREADY_USED,
    );
  });

  it("refuses an expired pass and a pass redeemed by another certificate", async () => {
    const first = await signedChallenge(env.clients.gate, env.agent);
    const { passToken: late } = await submit(first.challengeId, first.signature);
    env.clock.advance(61_000);
    await expectReason(
      env.clients.gate.token({ grant: { case: "passToken", value: late } }),
      Reason.PASS_EXPIRED,
    );

    const second = await signedChallenge(env.clients.gate, env.agent);
    const { passToken: pass } = await submit(second.challengeId, second.signature);
    const other = grpcClients(
      env.gh,
      await env.gh.clientTls({ role: "agent", did: env.agent.did }),
    );
    try {
      await expectReason(
        other.gate.token({ grant: { case: "passToken", value: pass } }),
        Reason.PASS_IDENTITY_MISMATCH,
      );
    } finally {
      other.close();
    }
  });

  it("refuses an unknown pass", async () => {
    await expectReason(
      env.clients.gate.token({ grant: { case: "passToken", value: "B".repeat(43) } }),
      Reason.PASS_NOT_FOUND,
    );
  });

  it("refuses scopes and audiences outside the agent's policy", async () => {
    await expectReason(
      signedChallenge(env.clients.gate, env.agent, ["orders:delete"]),
      Reason.SCOPE_NOT_ALLOWED,
      PERMISSION_DENIED,
    );
    await expectReason(
      signedChallenge(env.clients.gate, env.agent, ["orders:read"], "https://elsewhere.example"),
      Reason.AUDIENCE_NOT_ALLOWED,
    );
  });

  it("re-checks the policy at Token: a scope removed after the challenge is refused", async () => {
    const narrowed = await enrollAgent(env.gh);
    const gate = grpcClients(env.gh, narrowed.agentTls);
    const operator = grpcClients(env.gh, narrowed.operatorTls);
    try {
      const { challengeId, signature } = await signedChallenge(gate.gate, narrowed, [
        "orders:write",
      ]);
      const { passToken: pass } = await submit(challengeId, signature, gate.gate);
      await operator.registry.updateAgentPolicy({
        did: narrowed.did,
        policy: { scopes: ["orders:read"], audiences: [AUDIENCE] },
      });
      await expectReason(
        gate.gate.token({ grant: { case: "passToken", value: pass } }),
        Reason.SCOPE_NOT_ALLOWED,
      );
    } finally {
      gate.close();
      operator.close();
    }
  });

  it("caps the token lifetime by the policy's max_token_ttl, never extends it", async () => {
    const capped = await enrollAgent(env.gh);
    const gate = grpcClients(env.gh, capped.agentTls);
    const operator = grpcClients(env.gh, capped.operatorTls);
    try {
      const lifetime = async (seconds: bigint) => {
        await operator.registry.updateAgentPolicy({
          did: capped.did,
          policy: { scopes: ["orders:read"], audiences: [AUDIENCE], maxTokenTtl: { seconds } },
        });
        const claims = decodeJwt(await login(gate.gate, capped));
        return (claims.exp ?? 0) - (claims.iat ?? 0);
      };
      expect(await lifetime(120n)).toBe(120);
      expect(await lifetime(600n)).toBe(300); // the server default stays the ceiling
    } finally {
      gate.close();
      operator.close();
    }
  });

  it("refuses a challenge for a DID other than the certificate's", async () => {
    const other = await enrollAgent(env.gh);
    await expectReason(
      env.clients.gate.challenge({
        did: other.did,
        kind: ChallengeKind.SIGNATURE,
        scopes: ["orders:read"],
        audience: AUDIENCE,
      }),
      Reason.DID_MISMATCH,
      PERMISSION_DENIED,
    );
  });

  it("refuses challenges to a suspended agent, and again after reactivation allows them", async () => {
    const subject = await enrollAgent(env.gh);
    const gate = grpcClients(env.gh, subject.agentTls);
    const operator = grpcClients(env.gh, subject.operatorTls);
    try {
      await operator.registry.suspendAgent({ did: subject.did, reason: "test" });
      await expectReason(signedChallenge(gate.gate, subject), Reason.AGENT_SUSPENDED);
      await operator.registry.reactivateAgent({ did: subject.did });
      await signedChallenge(gate.gate, subject);
    } finally {
      gate.close();
      operator.close();
    }
  });
  // Challenge reads the agent's standing through Verify's look-up caches; registration sends
  // no invalidation, so a cached "no such agent" must not outlive it.
  it("issues a challenge at once to an agent registered right after one was refused", async () => {
    const key = generateAgentKey();
    const { domain } = env.agent;
    const did = agentDid(key, domain);
    const subject = { ...env.agent, key, did };
    const gate = grpcClients(env.gh, await env.gh.clientTls({ role: "agent", did }));
    const operator = grpcClients(env.gh, env.agent.operatorTls);
    try {
      await expectReason(signedChallenge(gate.gate, subject), Reason.AGENT_NOT_FOUND);
      await operator.registry.registerAgent({
        did,
        publicKey: key.publicKey,
        proofOfPossession: proofOfPossession(key, did, domain),
        policy: { scopes: ["orders:read"], audiences: [AUDIENCE] },
        displayName: "registered after a refused challenge",
      });
      const { challengeId, signature } = await signedChallenge(gate.gate, subject);
      const { passToken } = await gate.gate.submit({
        challengeId,
        answer: { case: "signature", value: { signature } },
      });
      expect(passToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } finally {
      gate.close();
      operator.close();
    }
  });
});
