import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from "node:crypto";
import { decodeJwt, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { TokenExchangeGrant } from "../../gen/gatehouse/v1/gate_pb.js";
import { dpopProof, jwtBearerAssertion } from "../../src/client/agent-keys.js";
import { ed25519Thumbprint } from "../../src/crypto/jose/thumbprint.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
  SCOPES,
  signedChallenge,
} from "../support/flows.js";
import { ISSUER, startTestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A compact JWS with any header and claims, signed by hand with `key` (Ed25519). */
function signRaw(
  key: KeyObject,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const token = `${input}.${sign(null, Buffer.from(input), key).toString("base64url")}`;
  rememberSecret(token);
  return token;
}

const claimsOf = (token: string) => decodeJwt(token);

describe.each(STORE_KINDS)("JWT-bearer and token-exchange grants (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const env = useGatehouse({ storeKind, redisUrl, clock: true });

  const now = () => Math.floor(env.clock.now() / 1000);

  const verify = (token: string, requiredScopes: string[] = ["orders:read"]) =>
    env.verifier.verify.verify({ token, audience: AUDIENCE, requiredScopes });

  /** A genuine assertion by `who`, with overrides. */
  async function assertion(
    who: Enrolled = env.agent,
    options: { audience?: string; lifetimeSeconds?: number; jti?: string; issuedAt?: number } = {},
  ): Promise<string> {
    const token = await jwtBearerAssertion(who.key, {
      did: who.did,
      audience: options.audience ?? ISSUER,
      lifetimeSeconds: options.lifetimeSeconds ?? 60,
      issuedAt: options.issuedAt ?? now(),
      ...(options.jti !== undefined && { jti: options.jti }),
    });
    rememberSecret(token);
    return token;
  }

  /** Claims of a hand-made assertion by the test agent. */
  const baseClaims = () => ({
    iss: env.agent.did,
    sub: env.agent.did,
    aud: ISSUER,
    iat: now(),
    exp: now() + 60,
    jti: randomUUID(),
  });

  const redeem = (token: string, scopes = ["orders:read"], gate = env.clients.gate) =>
    gate.token({
      grant: { case: "assertion", value: { assertion: token, scopes, audience: AUDIENCE } },
    });

  describe("JWT-bearer assertion (RFC 7523)", () => {
    it("issues a token for a valid assertion, and Verify allows it", async () => {
      const response = await redeem(await assertion(), ["orders:read", "orders:write"]);
      rememberSecret(response.accessToken);
      expect(response.tokenType).toBe("Bearer");
      expect(response.scopes).toEqual(["orders:read", "orders:write"]);
      const claims = claimsOf(response.accessToken);
      expect(claims.sub).toBe(env.agent.did);
      expect(claims.act).toBeUndefined();
      const decision = await verify(response.accessToken, ["orders:write"]);
      expect(decision.allowed).toBe(true);
    });

    it("accepts `aud` as an array holding only the issuer", async () => {
      const token = signRaw(
        env.agent.key.privateKey,
        { alg: "EdDSA" },
        {
          ...baseClaims(),
          aud: [ISSUER],
        },
      );
      rememberSecret((await redeem(token)).accessToken);
    });

    it("refuses a replayed assertion (same jti) with ASSERTION_REPLAYED", async () => {
      const token = await assertion();
      rememberSecret((await redeem(token)).accessToken);
      await expectReason(redeem(token), Reason.ASSERTION_REPLAYED);
      // A fresh signature over the same jti is still a replay.
      const jti = randomUUID();
      rememberSecret((await redeem(await assertion(env.agent, { jti }))).accessToken);
      await expectReason(redeem(await assertion(env.agent, { jti })), Reason.ASSERTION_REPLAYED);
    });

    it("lets exactly one of 20 concurrent redemptions of one assertion through", async () => {
      const token = await assertion();
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => redeem(token)));
      const passed = results.filter((r) => r.status === "fulfilled");
      expect(passed).toHaveLength(1);
      for (const result of results) {
        if (result.status === "rejected") {
          expect(result.reason.reason).toBe(Reason.ASSERTION_REPLAYED);
        } else rememberSecret(result.value.accessToken);
      }
    });

    it("refuses an assertion for another server's audience", async () => {
      await expectReason(
        redeem(await assertion(env.agent, { audience: "https://other.example" })),
        Reason.ASSERTION_INVALID,
      );
      await expectReason(
        redeem(
          signRaw(
            env.agent.key.privateKey,
            { alg: "EdDSA" },
            {
              ...baseClaims(),
              aud: [ISSUER, "https://other.example"],
            },
          ),
        ),
        Reason.ASSERTION_INVALID,
      );
      await expectReason(
        redeem(await assertion(env.agent, { audience: `${ISSUER}/` })),
        Reason.ASSERTION_INVALID,
      );
    });

    it("refuses an assertion signed by a key other than the registered one", async () => {
      const { privateKey } = generateKeyPairSync("ed25519");
      await expectReason(
        redeem(signRaw(privateKey, { alg: "EdDSA" }, baseClaims())),
        Reason.ASSERTION_INVALID,
      );
      const stranger = `did:agent:${env.agent.domain}:${"0".repeat(32)}`;
      await expectReason(
        redeem(
          signRaw(
            privateKey,
            { alg: "EdDSA" },
            {
              ...baseClaims(),
              iss: stranger,
              sub: stranger,
            },
          ),
        ),
        Reason.ASSERTION_INVALID,
      );
    });

    it("refuses key material or extensions in the header, even when correctly signed", async () => {
      const jwk = env.agent.key.privateKey.export({ format: "jwk" });
      const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
      for (const extra of [
        { jwk: publicJwk },
        { jku: "https://attacker.example/jwks.json" },
        { x5u: "https://attacker.example/cert.pem" },
        { x5c: ["MIIB"] },
        { crit: ["exp"] },
      ]) {
        await expectReason(
          redeem(signRaw(env.agent.key.privateKey, { alg: "EdDSA", ...extra }, baseClaims())),
          Reason.ASSERTION_INVALID,
        );
      }
      // Another JWT type the agent key signs cannot pass as an assertion.
      await expectReason(
        redeem(signRaw(env.agent.key.privateKey, { alg: "EdDSA", typ: "dpop+jwt" }, baseClaims())),
        Reason.ASSERTION_INVALID,
      );
    });

    it("refuses alg none and HS256", async () => {
      const unsigned = `${b64({ alg: "none" })}.${b64(baseClaims())}.`;
      await expectReason(redeem(unsigned), Reason.ASSERTION_INVALID);
      const hmacKey = new TextEncoder().encode(env.agent.key.publicKey.toString());
      const hs256 = await new SignJWT(baseClaims())
        .setProtectedHeader({ alg: "HS256" })
        .sign(hmacKey);
      rememberSecret(hs256);
      await expectReason(redeem(hs256), Reason.ASSERTION_INVALID);
      // The registered public key as an HMAC secret (the classic key-confusion attack).
      const confused = await new SignJWT(baseClaims())
        .setProtectedHeader({ alg: "HS256" })
        .sign(new Uint8Array(env.agent.key.publicKey));
      rememberSecret(confused);
      await expectReason(redeem(confused), Reason.ASSERTION_INVALID);
    });

    it("refuses a lifetime above the maximum, an expired assertion and a future iat", async () => {
      await expectReason(
        redeem(await assertion(env.agent, { lifetimeSeconds: 301 })),
        Reason.ASSERTION_INVALID,
      );
      await expectReason(
        redeem(await assertion(env.agent, { issuedAt: now() - 200, lifetimeSeconds: 120 })),
        Reason.ASSERTION_INVALID,
      );
      await expectReason(
        redeem(await assertion(env.agent, { issuedAt: now() + 120 })),
        Reason.ASSERTION_INVALID,
      );
      await expectReason(
        redeem(
          signRaw(
            env.agent.key.privateKey,
            { alg: "EdDSA" },
            {
              ...baseClaims(),
              nbf: now() + 120,
            },
          ),
        ),
        Reason.ASSERTION_INVALID,
      );
    });

    it("refuses missing claims and iss ≠ sub", async () => {
      const { jti: _jti, ...noJti } = baseClaims();
      const { exp: _exp, ...noExp } = baseClaims();
      for (const claims of [noJti, noExp, { ...baseClaims(), sub: `${env.agent.did}x` }]) {
        await expectReason(
          redeem(signRaw(env.agent.key.privateKey, { alg: "EdDSA" }, claims)),
          Reason.ASSERTION_INVALID,
        );
      }
    });

    it("refuses a scope outside the policy", async () => {
      await expectReason(
        redeem(await assertion(), ["orders:read", "admin"]),
        Reason.SCOPE_NOT_ALLOWED,
      );
    });

    it("refuses an assertion carried by another agent's connection", async () => {
      const other = await enrollAgent(env.gh);
      const otherClients = grpcClients(env.gh, other.agentTls);
      try {
        await expectReason(
          redeem(await assertion(env.agent), ["orders:read"], otherClients.gate),
          Reason.DID_MISMATCH,
        );
      } finally {
        otherClients.close();
      }
    });

    it("refuses a suspended agent with AGENT_SUSPENDED", async () => {
      const suspended = await enrollAgent(env.gh);
      const own = grpcClients(env.gh, suspended.agentTls);
      const operator = grpcClients(env.gh, suspended.operatorTls);
      try {
        await operator.registry.suspendAgent({ did: suspended.did });
        await expectReason(
          redeem(await assertion(suspended), ["orders:read"], own.gate),
          Reason.AGENT_SUSPENDED,
        );
      } finally {
        own.close();
        operator.close();
      }
    });

    if (storeKind === "redis") {
      it("refuses the replay on a second instance sharing the Redis store", async () => {
        // Same data directory: the same dev CA, so the agent's certificate is trusted there.
        const second = await startTestGatehouse({
          storeKind,
          clock: env.clock,
          redisUrl: redisUrl(),
          dataDir: env.gh.dataDir,
        });
        const secondClients = grpcClients(second, env.agent.agentTls);
        try {
          const token = await assertion();
          rememberSecret((await redeem(token)).accessToken);
          await expectReason(
            redeem(token, ["orders:read"], secondClients.gate),
            Reason.ASSERTION_REPLAYED,
          );
          const other = await assertion();
          rememberSecret((await redeem(other, ["orders:read"], secondClients.gate)).accessToken);
          await expectReason(redeem(other), Reason.ASSERTION_REPLAYED);
        } finally {
          secondClients.close();
          await second.stop();
        }
      });
    }
  });

  describe("token exchange (RFC 8693)", () => {
    let subject: Enrolled;
    let delegate: Enrolled;
    let wildcard: Enrolled;
    let stranger: Enrolled;
    let subjectClients: Clients;
    let delegateClients: Clients;
    let operatorClients: Clients;
    let verifierClients: Clients;

    beforeAll(async () => {
      delegate = await enrollAgent(env.gh);
      stranger = await enrollAgent(env.gh);
      subject = await enrollAgent(env.gh);
      // A wildcard names agents of the subject's own operator only.
      wildcard = await enrollAgent(env.gh, {}, subject);
      const operator = grpcClients(env.gh, subject.operatorTls);
      try {
        await operator.registry.updateAgentPolicy({
          did: subject.did,
          policy: {
            scopes: SCOPES,
            audiences: [AUDIENCE],
            delegates: [delegate.did, `did:agent:${subject.domain}:*`],
          },
        });
      } finally {
        operator.close();
      }
      subjectClients = grpcClients(env.gh, subject.agentTls);
      delegateClients = grpcClients(env.gh, delegate.agentTls);
      operatorClients = grpcClients(env.gh, subject.operatorTls);
      verifierClients = grpcClients(env.gh, subject.verifierTls);
    });
    afterAll(() => {
      subjectClients?.close();
      delegateClients?.close();
      operatorClients?.close();
      verifierClients?.close();
    });

    /** A proof for the token endpoint, or for a resource request with `accessToken`. */
    const proofBy = (who: Enrolled, accessToken?: string) => {
      const proof = dpopProof(who.key, {
        htm: accessToken === undefined ? "POST" : "GET",
        htu: accessToken === undefined ? `${ISSUER}/v1/tokens` : `${AUDIENCE}/orders`,
        iat: now(),
        ...(accessToken !== undefined && { accessToken }),
      });
      rememberSecret(proof);
      return proof;
    };

    /** Verify a delegated (key-bound) token as presented by `actor`. */
    const verifyAs = (actor: Enrolled, token: string) =>
      env.verifier.verify.verify({
        token,
        audience: AUDIENCE,
        requiredScopes: ["orders:read"],
        dpopProof: proofBy(actor, token),
        httpMethod: "GET",
        httpUrl: `${AUDIENCE}/orders`,
      });

    const exchange = (
      gate: Clients["gate"],
      value: Partial<Omit<TokenExchangeGrant, "$typeName">> & { subjectToken: string },
      prover?: Enrolled,
    ) =>
      gate
        .token({
          grant: { case: "exchange", value: { scopes: ["orders:read"], ...value } },
          ...(prover && { dpopProof: proofBy(prover) }),
        })
        .then((response) => {
          rememberSecret(response.accessToken);
          return response;
        });

    it("narrows the agent's own token: scopes subset, exp no later, no actor", async () => {
      const subjectToken = await login(subjectClients.gate, subject, SCOPES);
      const response = await exchange(subjectClients.gate, { subjectToken, ttlSeconds: 60 });
      const before = claimsOf(subjectToken);
      const after = claimsOf(response.accessToken);
      expect(after.sub).toBe(subject.did);
      expect(after.scope).toBe("orders:read");
      expect(after.aud).toBe(AUDIENCE);
      expect(after.act).toBeUndefined();
      expect(after.exp).toBeLessThanOrEqual(before.exp ?? 0);
      expect((after.exp ?? 0) - (after.iat ?? 0)).toBeLessThanOrEqual(60);
      expect(after.jti).not.toBe(before.jti);
      expect((await verify(response.accessToken)).allowed).toBe(true);
      expect((await verify(response.accessToken, ["orders:write"])).reason).toBe(
        Reason.INSUFFICIENT_SCOPE,
      );
    });

    it("never extends the lifetime beyond the subject token's", async () => {
      const subjectToken = await login(subjectClients.gate, subject);
      env.clock.advance(100_000);
      const response = await exchange(subjectClients.gate, { subjectToken, ttlSeconds: 3600 });
      expect(claimsOf(response.accessToken).exp).toBe(claimsOf(subjectToken).exp);
    });

    // Deliberate change (issue 11 item 2): RFC 8693's model. The principal stays `sub`, the
    // delegate is the actor (`act`), and the token is bound to the delegate's key.
    it("delegates to an allowed agent: sub = the delegator, act = the delegate, bound to it", async () => {
      const subjectToken = await login(subjectClients.gate, subject, SCOPES);
      const response = await exchange(subjectClients.gate, {
        subjectToken,
        delegateDid: delegate.did,
      });
      const claims = claimsOf(response.accessToken);
      expect(claims.sub).toBe(subject.did);
      expect(claims.operator).toBe(subject.domain);
      expect(claims.act).toEqual({ sub: delegate.did });
      expect(claims.cnf).toEqual({ jkt: ed25519Thumbprint(delegate.key.publicKey) });
      expect(response.tokenType).toBe("DPoP");
      expect(claims.exp).toBeLessThanOrEqual(claimsOf(subjectToken).exp ?? 0);
      const decision = await verifyAs(delegate, response.accessToken);
      expect(decision.allowed).toBe(true);
      expect(decision.agentDid).toBe(subject.did);
      expect(decision.actorDid).toBe(delegate.did);

      // The delegate narrows its delegated token: the chain is kept, not shed.
      const narrowed = await exchange(
        delegateClients.gate,
        { subjectToken: response.accessToken, audience: AUDIENCE },
        delegate,
      );
      expect(claimsOf(narrowed.accessToken).act).toEqual({ sub: delegate.did });
      // Its own policy allows no delegation onwards.
      await expectReason(
        exchange(
          delegateClients.gate,
          { subjectToken: response.accessToken, delegateDid: wildcard.did },
          delegate,
        ),
        Reason.DELEGATION_NOT_ALLOWED,
      );
    });

    it("allows delegation to any agent of its own operator by `did:agent:<domain>:*`", async () => {
      const subjectToken = await login(subjectClients.gate, subject);
      const response = await exchange(subjectClients.gate, {
        subjectToken,
        delegateDid: wildcard.did,
      });
      expect(claimsOf(response.accessToken).sub).toBe(subject.did);
      expect(claimsOf(response.accessToken).act).toEqual({ sub: wildcard.did });
      expect((await verifyAs(wildcard, response.accessToken)).allowed).toBe(true);
    });

    it("refuses a scope the subject token does not carry with SCOPE_NOT_ALLOWED", async () => {
      const subjectToken = await login(subjectClients.gate, subject, ["orders:read"]);
      await expectReason(
        exchange(subjectClients.gate, { subjectToken, scopes: ["orders:read", "orders:write"] }),
        Reason.SCOPE_NOT_ALLOWED,
      );
    });

    it("refuses another audience than the subject token's", async () => {
      const subjectToken = await login(subjectClients.gate, subject);
      await expectReason(
        exchange(subjectClients.gate, { subjectToken, audience: "https://other.example" }),
        Reason.AUDIENCE_NOT_ALLOWED,
      );
    });

    it("refuses a delegate the policy does not name with DELEGATION_NOT_ALLOWED", async () => {
      const subjectToken = await login(subjectClients.gate, subject);
      await expectReason(
        exchange(subjectClients.gate, { subjectToken, delegateDid: stranger.did }),
        Reason.DELEGATION_NOT_ALLOWED,
      );
    });

    it("refuses a caller that is not the subject token's agent", async () => {
      const subjectToken = await login(subjectClients.gate, subject);
      await expectReason(exchange(delegateClients.gate, { subjectToken }), Reason.DID_MISMATCH);
      await expectReason(
        exchange(delegateClients.gate, { subjectToken, delegateDid: delegate.did }),
        Reason.DID_MISMATCH,
      );
    });

    it("refuses a revoked subject token with TOKEN_REVOKED", async () => {
      const subjectToken = await login(subjectClients.gate, subject);
      const admin = grpcClients(env.gh, subject.adminTls);
      try {
        const jti = String(claimsOf(subjectToken).jti);
        await admin.registry.revoke({ target: { case: "tokenId", value: jti } });
      } finally {
        admin.close();
      }
      await expectReason(exchange(subjectClients.gate, { subjectToken }), Reason.TOKEN_REVOKED);
    });

    it("refuses a token not issued by this Gatehouse", async () => {
      const forged = signRaw(
        subject.key.privateKey,
        { alg: "EdDSA", typ: "at+jwt", kid: "x" },
        {
          iss: ISSUER,
          sub: subject.did,
          aud: AUDIENCE,
          scope: "orders:read",
          operator: subject.domain,
          iat: now(),
          nbf: now(),
          exp: now() + 60,
          jti: randomUUID(),
        },
      );
      await expectReason(
        exchange(subjectClients.gate, { subjectToken: forged }),
        Reason.TOKEN_KID_UNKNOWN,
      );
    });

    it("refuses a DPoP-bound subject token with TOKEN_BOUND_TO_KEY", async () => {
      // Signed with the server's own key: a genuine token, bound to a key (RFC 9449 §6).
      const [record] = await env.gh.app.store.signingKeys.list();
      if (!record) throw new Error("no signing key");
      const bound = signRaw(
        createPrivateKey(record.privateKeyPem),
        { alg: "EdDSA", typ: "at+jwt", kid: record.kid },
        {
          iss: ISSUER,
          sub: subject.did,
          aud: AUDIENCE,
          scope: "orders:read",
          operator: subject.domain,
          iat: now(),
          nbf: now(),
          exp: now() + 60,
          jti: randomUUID(),
          cnf: { jkt: "A".repeat(43) },
        },
      );
      await expectReason(
        exchange(subjectClients.gate, { subjectToken: bound }),
        Reason.TOKEN_BOUND_TO_KEY,
      );
    });

    it("revoking a token revokes every token exchanged from it", async () => {
      const subjectToken = await login(subjectClients.gate, subject, SCOPES);
      const child = await exchange(subjectClients.gate, { subjectToken, scopes: SCOPES });
      const grandchild = await exchange(subjectClients.gate, { subjectToken: child.accessToken });
      const parentJti = claimsOf(subjectToken).jti as string;
      expect(claimsOf(grandchild.accessToken).derived_from).toEqual([
        parentJti,
        claimsOf(child.accessToken).jti,
      ]);
      const verify = (token: string) =>
        verifierClients.verify.verify({ token, audience: AUDIENCE, requiredScopes: [] });
      expect((await verify(grandchild.accessToken)).allowed).toBe(true);
      await operatorClients.registry.revoke({ target: { case: "tokenId", value: parentJti } });
      for (const token of [child.accessToken, grandchild.accessToken]) {
        const decision = await verify(token);
        expect(Reason[decision.reason]).toBe(Reason[Reason.TOKEN_REVOKED]);
      }
      await expectReason(
        exchange(subjectClients.gate, { subjectToken: child.accessToken }),
        Reason.TOKEN_REVOKED,
      );
    });

    it("exchanges a DPoP-bound token only with a proof by its key, and keeps it bound", async () => {
      const proof = (key: Enrolled["key"]) =>
        dpopProof(key, { htm: "POST", htu: `${ISSUER}/v1/tokens`, iat: now() });
      const { challengeId, signature } = await signedChallenge(
        subjectClients.gate,
        subject,
        SCOPES,
      );
      const { passToken: pass } = await subjectClients.gate.submit({
        challengeId,
        answer: { case: "signature", value: { signature } },
      });
      const login = await subjectClients.gate.token({
        grant: { case: "passToken", value: pass },
        dpopProof: proof(subject.key),
      });
      rememberSecret(pass, login.accessToken);
      const subjectToken = login.accessToken;
      const jkt = (claimsOf(subjectToken).cnf as { jkt: string }).jkt;

      // Without a proof, the bound token would become a bearer one: refused.
      await expectReason(
        exchange(subjectClients.gate, { subjectToken }),
        Reason.TOKEN_BOUND_TO_KEY,
      );
      // A proof by another key (the delegate's, registered to another agent) is refused.
      await expectReason(
        subjectClients.gate.token({
          grant: { case: "exchange", value: { subjectToken, scopes: ["orders:read"] } },
          dpopProof: proof(delegate.key),
        }),
        Reason.DPOP_INVALID,
      );
      // Deliberate change (issue 11 item 2): a bound token is handed to a delegate with its
      // key's proof, and the delegated token is bound to the delegate's key instead.
      const handed = await subjectClients.gate.token({
        grant: {
          case: "exchange",
          value: { subjectToken, scopes: ["orders:read"], delegateDid: delegate.did },
        },
        dpopProof: proof(subject.key),
      });
      rememberSecret(handed.accessToken);
      expect(claimsOf(handed.accessToken).cnf).toEqual({
        jkt: ed25519Thumbprint(delegate.key.publicKey),
      });
      const narrowed = await subjectClients.gate.token({
        grant: { case: "exchange", value: { subjectToken, scopes: ["orders:read"] } },
        dpopProof: proof(subject.key),
      });
      rememberSecret(narrowed.accessToken);
      expect(narrowed.tokenType).toBe("DPoP");
      expect(claimsOf(narrowed.accessToken).cnf).toEqual({ jkt });
      expect(claimsOf(narrowed.accessToken).scope).toBe("orders:read");
    });

    it("bounds the delegation chain", async () => {
      // a0 → a1 → a2 → a3 → a4 is four actors deep; one more is refused. Each hand-off is
      // named by the principal a0 (whose authority every actor spends) and by the hand-over.
      const chain: Enrolled[] = [];
      for (let i = 0; i < 6; i += 1) chain.push(await enrollAgent(env.gh));
      for (let i = 0; i < 5; i += 1) {
        const from = chain[i] as Enrolled;
        const operator = grpcClients(env.gh, from.operatorTls);
        const named = i === 0 ? chain.slice(1) : [chain[i + 1] as Enrolled];
        try {
          await operator.registry.updateAgentPolicy({
            did: from.did,
            policy: { scopes: SCOPES, audiences: [AUDIENCE], delegates: named.map((a) => a.did) },
          });
        } finally {
          operator.close();
        }
      }
      const gates = chain.map((member) => grpcClients(env.gh, member.agentTls));
      try {
        let token = await login(gates[0]?.gate as Clients["gate"], chain[0] as Enrolled);
        for (let i = 0; i < 4; i += 1) {
          const next = chain[i + 1] as Enrolled;
          const response = await exchange(
            gates[i]?.gate as Clients["gate"],
            { subjectToken: token, delegateDid: next.did },
            i === 0 ? undefined : chain[i],
          );
          token = response.accessToken;
        }
        expect(claimsOf(token).sub).toBe(chain[0]?.did);
        expect(claimsOf(token).act).toEqual({
          sub: chain[4]?.did,
          act: { sub: chain[3]?.did, act: { sub: chain[2]?.did, act: { sub: chain[1]?.did } } },
        });
        expect((await verifyAs(chain[4] as Enrolled, token)).allowed).toBe(true);
        await expectReason(
          exchange(
            gates[4]?.gate as Clients["gate"],
            { subjectToken: token, delegateDid: chain[5]?.did ?? "" },
            chain[4],
          ),
          Reason.DELEGATION_NOT_ALLOWED,
        );
      } finally {
        for (const gate of gates) gate.close();
      }
    });

    it("refuses an expired subject token with TOKEN_EXPIRED", async () => {
      const subjectToken = await login(subjectClients.gate, subject);
      env.clock.advance(301_000 + 30_000);
      await expectReason(exchange(subjectClients.gate, { subjectToken }), Reason.TOKEN_EXPIRED);
    });
  });
});
