import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from "node:crypto";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, enrollAgent, grpcClients, login } from "../support/flows.js";
import { ISSUER } from "../support/gatehouse.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe.each(STORE_KINDS)(
  "Verify refuses bad tokens with typed reasons (%s store)",
  (storeKind) => {
    const redisUrl = useRedis();
    const env = useGatehouse({ storeKind, redisUrl, clock: true });
    let serverKey: { kid: string; key: KeyObject };

    beforeAll(async () => {
      const [record] = await env.gh.app.store.signingKeys.list();
      if (!record) throw new Error("no signing key");
      serverKey = { kid: record.kid, key: createPrivateKey(record.privateKeyPem) };
    });

    const verify = (token: string, audience = AUDIENCE, requiredScopes: string[] = []) =>
      env.verifier.verify.verify({ token, audience, requiredScopes });

    async function expectDenied(token: string, reason: Reason, audience = AUDIENCE) {
      const decision = await verify(token, audience);
      expect(decision.allowed).toBe(false);
      expect(Reason[decision.reason]).toBe(Reason[reason]);
      return decision;
    }

    /**
     * A token signed with the server's real key, with any claims and header (signed by hand:
     * jose rightly refuses to produce some of these), so each claim check is tested alone.
     */
    async function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
      const now = Math.floor(env.clock.now() / 1000);
      const payload = {
        iss: ISSUER,
        sub: env.agent.did,
        aud: AUDIENCE,
        scope: "orders:read",
        operator: env.agent.domain,
        iat: now,
        nbf: now,
        exp: now + 300,
        jti: `forged-${randomUUID()}`,
        ...claims,
      };
      const input = `${b64({ alg: "EdDSA", kid: serverKey.kid, typ: "at+jwt", ...header })}.${b64(payload)}`;
      return `${input}.${sign(null, Buffer.from(input), serverKey.key).toString("base64url")}`;
    }

    it("allows a genuine token (control)", async () => {
      const token = await login(env.clients.gate, env.agent);
      expect((await verify(token, AUDIENCE, ["orders:read"])).allowed).toBe(true);
      expect((await verify(await forge({}))).allowed).toBe(true);
    });

    it("wrong audience → TOKEN_AUDIENCE_MISMATCH", async () => {
      const token = await login(env.clients.gate, env.agent);
      await expectDenied(token, Reason.TOKEN_AUDIENCE_MISMATCH, "https://other.example");
    });

    it("missing scope → INSUFFICIENT_SCOPE", async () => {
      const token = await login(env.clients.gate, env.agent);
      const decision = await verify(token, AUDIENCE, ["orders:write"]);
      expect(decision.reason).toBe(Reason.INSUFFICIENT_SCOPE);
    });

    it("expired (injected clock) → TOKEN_EXPIRED", async () => {
      const token = await login(env.clients.gate, env.agent);
      env.clock.advance(301_000 + 30_000);
      try {
        await expectDenied(token, Reason.TOKEN_EXPIRED);
      } finally {
        env.clock.advance(-331_000);
      }
    });

    it("tampered payload → TOKEN_BAD_SIGNATURE, with no identity reported", async () => {
      const token = await login(env.clients.gate, env.agent);
      const [header, payload, signature] = token.split(".") as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      const widened = b64({ ...claims, scope: "orders:read orders:write admin" });
      const decision = await expectDenied(
        `${header}.${widened}.${signature}`,
        Reason.TOKEN_BAD_SIGNATURE,
      );
      expect(decision.agentDid).toBe("");
    });

    it("a cached token's signature on a tampered payload or another audience never hits", async () => {
      const token = await login(env.clients.gate, env.agent);
      expect((await verify(token, AUDIENCE, ["orders:read"])).allowed).toBe(true); // cached
      const [header, payload, signature] = token.split(".") as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      const widened = b64({ ...claims, scope: "orders:read orders:write admin" });
      await expectDenied(`${header}.${widened}.${signature}`, Reason.TOKEN_BAD_SIGNATURE);
      await expectDenied(token, Reason.TOKEN_AUDIENCE_MISMATCH, "https://other.example");
      expect((await verify(token, AUDIENCE, ["orders:read"])).allowed).toBe(true);
    });

    it("unknown kid → TOKEN_KID_UNKNOWN", async () => {
      await expectDenied(await forge({}, { kid: "no-such-key" }), Reason.TOKEN_KID_UNKNOWN);
    });

    it("alg none → TOKEN_ALG_NOT_ALLOWED", async () => {
      const token = `${b64({ alg: "none", typ: "at+jwt", kid: serverKey.kid })}.${b64({ sub: env.agent.did })}.`;
      // An empty signature segment is already malformed; with a dummy one the alg is refused.
      await expectDenied(token, Reason.TOKEN_MALFORMED);
      await expectDenied(`${token}AAAA`, Reason.TOKEN_ALG_NOT_ALLOWED);
    });

    it("HS256 signed with the public key as the secret → TOKEN_ALG_NOT_ALLOWED", async () => {
      const jwks = await env.verifier.verify.getJwks({});
      const publicKey = jwks.keys[0]?.x ?? "";
      const input = `${b64({ alg: "HS256", typ: "at+jwt", kid: serverKey.kid })}.${b64({ sub: env.agent.did })}`;
      const mac = createHmac("sha256", publicKey).update(input).digest("base64url");
      await expectDenied(`${input}.${mac}`, Reason.TOKEN_ALG_NOT_ALLOWED);
    });

    it("a token signed by a key the server does not publish → TOKEN_BAD_SIGNATURE", async () => {
      const { privateKey } = generateKeyPairSync("ed25519");
      const token = await new SignJWT({ sub: env.agent.did })
        .setProtectedHeader({ alg: "EdDSA", kid: serverKey.kid, typ: "at+jwt" })
        .sign(privateKey);
      await expectDenied(token, Reason.TOKEN_BAD_SIGNATURE);
    });

    it("refuses header parameters that name a key source, and crit", async () => {
      for (const extra of [
        { jku: "https://evil.example/jwks" },
        { x5u: "https://evil.example/cert" },
        { jwk: { kty: "OKP", crv: "Ed25519", x: "AAAA" } },
        { crit: ["exp"] },
      ]) {
        await expectDenied(await forge({}, extra), Reason.TOKEN_HEADER_INVALID);
      }
    });

    it("wrong typ → TOKEN_HEADER_INVALID", async () => {
      await expectDenied(await forge({}, { typ: "JWT" }), Reason.TOKEN_HEADER_INVALID);
    });

    it("another issuer → TOKEN_ISSUER_MISMATCH", async () => {
      await expectDenied(
        await forge({ iss: "https://evil.example" }),
        Reason.TOKEN_ISSUER_MISMATCH,
      );
    });

    it("nbf or iat in the future → TOKEN_NOT_YET_VALID", async () => {
      const now = Math.floor(env.clock.now() / 1000);
      await expectDenied(await forge({ nbf: now + 120 }), Reason.TOKEN_NOT_YET_VALID);
      await expectDenied(await forge({ iat: now + 120, nbf: now }), Reason.TOKEN_NOT_YET_VALID);
    });

    it("lifetime above the maximum → TOKEN_LIFETIME_EXCEEDED", async () => {
      const now = Math.floor(env.clock.now() / 1000);
      await expectDenied(await forge({ exp: now + 86_400 }), Reason.TOKEN_LIFETIME_EXCEEDED);
    });

    it("missing or mistyped claims → TOKEN_CLAIMS_INVALID", async () => {
      await expectDenied(await forge({ jti: undefined }), Reason.TOKEN_CLAIMS_INVALID);
      await expectDenied(await forge({ exp: "tomorrow" }), Reason.TOKEN_CLAIMS_INVALID);
    });

    it("malformed and oversized tokens → TOKEN_MALFORMED", async () => {
      await expectDenied("not-a-jwt", Reason.TOKEN_MALFORMED);
      await expectDenied("a.b.c.d", Reason.TOKEN_MALFORMED);
      await expectDenied(`${b64([1, 2])}.${b64({})}.AAAA`, Reason.TOKEN_MALFORMED);
      const deep = `${"[".repeat(3000)}${"]".repeat(3000)}`;
      await expectDenied(
        `${Buffer.from(deep).toString("base64url").slice(0, 8000)}.e30.AAAA`,
        Reason.TOKEN_MALFORMED,
      );
    });

    it("revoked token → TOKEN_REVOKED", async () => {
      const token = await login(env.clients.gate, env.agent);
      const { tokenId } = await verify(token);
      const operator = grpcClients(env.gh, env.agent.operatorTls);
      try {
        await operator.registry.revoke({ target: { case: "tokenId", value: tokenId } });
      } finally {
        operator.close();
      }
      await expectDenied(token, Reason.TOKEN_REVOKED);
    });

    it("token of a suspended agent → AGENT_SUSPENDED; of a revoked agent → AGENT_REVOKED", async () => {
      const subject = await enrollAgent(env.gh);
      const gate = grpcClients(env.gh, subject.agentTls);
      const operator = grpcClients(env.gh, subject.operatorTls);
      try {
        const token = await login(gate.gate, subject);
        await operator.registry.suspendAgent({ did: subject.did });
        await expectDenied(token, Reason.AGENT_SUSPENDED);
        await operator.registry.reactivateAgent({ did: subject.did });
        expect((await verify(token)).allowed).toBe(true);
        await operator.registry.revoke({ target: { case: "agentDid", value: subject.did } });
        await expectDenied(token, Reason.AGENT_REVOKED);
      } finally {
        gate.close();
        operator.close();
      }
    });
  },
);
