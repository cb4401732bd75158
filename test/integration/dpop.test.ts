import { createHash, createHmac, sign } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Authorization,
  CheckRequestSchema,
  type CheckResponse,
} from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { ErrorDetailSchema, Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { type AgentKey, dpopProof } from "../../src/client/agent-keys.js";
import { createMtlsTransport } from "../../src/client/connect-client.js";
import { createGrpcClient, type GrpcClient } from "../../src/client/grpc-client.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  type GateLike,
  grpcClients,
  login,
  signedChallenge,
} from "../support/flows.js";
import { ISSUER, startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const TOKEN_URL = `${ISSUER}/v1/tokens`;
/** The resource a verifier is asked about: AUDIENCE's host. */
const RESOURCE_URL = `${AUDIENCE}/orders`;
const NONCE_SECRET = "dpop-nonce-secret-for-tests-only-0123456789";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwkOf = (key: AgentKey) => ({
  kty: "OKP",
  crv: "Ed25519",
  x: Buffer.from(key.publicKey).toString("base64url"),
});

/** A proof signed by hand (EdDSA with `key`), so every header and claim can be wrong. */
function craftProof(
  key: AgentKey,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signature?: string,
): string {
  const input = `${b64({ typ: "dpop+jwt", alg: "EdDSA", jwk: jwkOf(key), ...header })}.${b64(claims)}`;
  const sig = signature ?? dpopSign(key, input);
  const proof = `${input}.${sig}`;
  rememberSecret(proof);
  return proof;
}

const dpopSign = (key: AgentKey, input: string) =>
  sign(null, Buffer.from(input, "ascii"), key.privateKey).toString("base64url");
const athOf = (token: string) => createHash("sha256").update(token).digest("base64url");

describe.each(STORE_KINDS)("DPoP (RFC 9449) against the running server (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const env = useGatehouse({ storeKind, redisUrl, clock: true });
  let other: Enrolled;
  let authz: GrpcClient<(typeof Authorization)["method"]>;

  const redis = () => (storeKind === "redis" ? { redisUrl: redisUrl() } : {});
  const now = () => Math.floor(env.clock.now() / 1000);

  beforeAll(async () => {
    other = await enrollAgent(env.gh);
    authz = createGrpcClient(Authorization, {
      address: env.gh.grpcAddress,
      tls: env.agent.verifierTls,
    });
  });
  afterAll(() => {
    authz?.close();
  });

  /** A fresh proof from the client builder, at the server's (manual) time. */
  function proof(
    key: AgentKey,
    input: { htm: string; htu: string; accessToken?: string; nonce?: string; iat?: number },
  ) {
    const value = dpopProof(key, { iat: now(), ...input });
    rememberSecret(value);
    return value;
  }

  /** Challenge → Submit → Token with a DPoP proof for the token endpoint. */
  async function dpopLogin(gate: GateLike, who: Enrolled, proofValue?: string) {
    const { challengeId, signature } = await signedChallenge(gate, who);
    const { passToken: pass } = await gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });
    rememberSecret(pass);
    const response = await gate.token({
      grant: { case: "passToken", value: pass },
      dpopProof: proofValue ?? proof(who.key, { htm: "POST", htu: TOKEN_URL }),
    });
    rememberSecret(response.accessToken);
    return response;
  }

  const verify = (token: string, dpop = "", httpMethod = "GET", httpUrl = RESOURCE_URL) =>
    env.verifier.verify.verify({
      token,
      audience: AUDIENCE,
      requiredScopes: ["orders:read"],
      dpopProof: dpop,
      httpMethod,
      httpUrl,
    });

  async function expectDenied(
    token: string,
    dpop: string,
    reason: Reason,
    method = "GET",
    url = RESOURCE_URL,
  ) {
    const decision = await verify(token, dpop, method, url);
    expect(Reason[decision.reason]).toBe(Reason[reason]);
    expect(decision.allowed).toBe(false);
    return decision;
  }

  const claimsFor = (token: string, changes: Record<string, unknown> = {}) => ({
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    htm: "GET",
    htu: RESOURCE_URL,
    iat: now(),
    ath: athOf(token),
    ...changes,
  });

  it("a DPoP login yields token_type DPoP bound by cnf.jkt to the agent's key", async () => {
    const response = await dpopLogin(env.clients.gate, env.agent);
    expect(response.tokenType).toBe("DPoP");
    expect(response.dpopNonce).toBe("");
    const [, payload] = response.accessToken.split(".") as [string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const { ed25519Thumbprint } = await import("../../src/crypto/jose/thumbprint.js");
    expect(claims.cnf).toEqual({ jkt: ed25519Thumbprint(env.agent.key.publicKey) });
  });

  it("Verify allows a bound token with a fresh proof per request", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    for (let i = 0; i < 2; i += 1) {
      const p = proof(env.agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken });
      const decision = await verify(accessToken, p);
      expect(Reason[decision.reason]).toBe(Reason[Reason.UNSPECIFIED]);
      expect(decision.allowed).toBe(true);
    }
    // The URL is compared normalized (RFC 3986 §6.2.2–6.2.3) and without its query.
    const p = proof(env.agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken });
    expect(
      (await verify(accessToken, p, "GET", "HTTPS://API.example.com:443/orders?id=1")).allowed,
    ).toBe(true);
  });

  it("a decision on a bound token is never cacheable: each request needs its own proof", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    for (let i = 0; i < 2; i += 1) {
      const p = proof(env.agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken });
      const decision = await verify(accessToken, p);
      expect(decision.allowed).toBe(true);
      expect(decision.cacheTtlSeconds).toBe(0);
    }
    // A bearer token of the same agent stays cacheable.
    const bearer = await login(env.clients.gate, env.agent);
    const decision = await verify(bearer);
    expect(decision.allowed).toBe(true);
    expect(decision.cacheTtlSeconds).toBeGreaterThan(0);
  });

  it("a bound token used as a bearer token → TOKEN_BOUND_TO_KEY", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    await expectDenied(accessToken, "", Reason.TOKEN_BOUND_TO_KEY);
  });

  it("proof for another method, a URL with a query, or another host → DPOP_INVALID", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    const wrongHtm = proof(env.agent.key, { htm: "POST", htu: RESOURCE_URL, accessToken });
    await expectDenied(accessToken, wrongHtm, Reason.DPOP_INVALID);
    const withQuery = proof(env.agent.key, {
      htm: "GET",
      htu: `${RESOURCE_URL}?id=1`,
      accessToken,
    });
    await expectDenied(accessToken, withQuery, Reason.DPOP_INVALID, "GET", `${RESOURCE_URL}?id=1`);
    const otherHost = proof(env.agent.key, {
      htm: "GET",
      htu: "https://evil.example/orders",
      accessToken,
    });
    await expectDenied(accessToken, otherHost, Reason.DPOP_INVALID);
  });

  it("ath of another token → DPOP_INVALID", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    const { accessToken: second } = await dpopLogin(env.clients.gate, env.agent);
    const p = proof(env.agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken: second });
    await expectDenied(accessToken, p, Reason.DPOP_INVALID);
  });

  it("a proof by another agent's key (not cnf.jkt) → DPOP_INVALID", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    const p = proof(other.key, { htm: "GET", htu: RESOURCE_URL, accessToken });
    await expectDenied(accessToken, p, Reason.DPOP_INVALID);
  });

  it("a replayed proof → DPOP_REPLAYED", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    const p = proof(env.agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken });
    expect((await verify(accessToken, p)).allowed).toBe(true);
    await expectDenied(accessToken, p, Reason.DPOP_REPLAYED);
  });

  it("a proof too old (manual clock) or from the future → DPOP_INVALID", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    const old = proof(env.agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken });
    env.clock.advance(61_000);
    try {
      await expectDenied(accessToken, old, Reason.DPOP_INVALID);
    } finally {
      env.clock.advance(-61_000);
    }
    const future = proof(env.agent.key, {
      htm: "GET",
      htu: RESOURCE_URL,
      accessToken,
      iat: now() + 120,
    });
    await expectDenied(accessToken, future, Reason.DPOP_INVALID);
  });

  it("private key material in jwk, alg none, HS256, wrong typ → DPOP_INVALID", async () => {
    const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
    const claims = () => claimsFor(accessToken);
    const d = env.agent.key.privateKey.export({ format: "jwk" }).d;
    const withD = craftProof(env.agent.key, { jwk: { ...jwkOf(env.agent.key), d } }, claims());
    await expectDenied(accessToken, withD, Reason.DPOP_INVALID);
    const none = craftProof(env.agent.key, { alg: "none" }, claims(), "AAAA");
    await expectDenied(accessToken, none, Reason.DPOP_INVALID);
    const hsInput = `${b64({ typ: "dpop+jwt", alg: "HS256", jwk: jwkOf(env.agent.key) })}.${b64(claims())}`;
    const hmac = createHmac("sha256", Buffer.from(env.agent.key.publicKey))
      .update(hsInput)
      .digest();
    const hs256 = `${hsInput}.${hmac.toString("base64url")}`;
    rememberSecret(hs256);
    await expectDenied(accessToken, hs256, Reason.DPOP_INVALID);
    const typ = craftProof(env.agent.key, { typ: "JWT" }, claims());
    await expectDenied(accessToken, typ, Reason.DPOP_INVALID);
    // Control: the same crafting with nothing wrong is accepted.
    expect((await verify(accessToken, craftProof(env.agent.key, {}, claims()))).allowed).toBe(true);
  });

  it("a token request proof signed by another key than the registered one → DPOP_INVALID", async () => {
    const foreign = proof(other.key, { htm: "POST", htu: TOKEN_URL });
    await expectReason(dpopLogin(env.clients.gate, env.agent, foreign), Reason.DPOP_INVALID);
    const wrongUrl = proof(env.agent.key, { htm: "POST", htu: `${ISSUER}/v1/other` });
    await expectReason(dpopLogin(env.clients.gate, env.agent, wrongUrl), Reason.DPOP_INVALID);
  });

  it("a bearer token (no cnf) with a proof is still a bearer token", async () => {
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    const { passToken: pass } = await env.clients.gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });
    const token = await env.clients.gate.token({ grant: { case: "passToken", value: pass } });
    rememberSecret(pass, token.accessToken);
    expect(token.tokenType).toBe("Bearer");
    const p = proof(other.key, { htm: "GET", htu: RESOURCE_URL, accessToken: token.accessToken });
    expect((await verify(token.accessToken, p)).allowed).toBe(true);
  });

  describe("through Envoy ext_authz Check", () => {
    const HOST = "api.example.com";
    const check = (headers: Record<string, string>) =>
      authz.check(
        create(CheckRequestSchema, {
          attributes: {
            request: {
              http: {
                method: "GET",
                path: "/orders?id=1",
                host: HOST,
                headers: { ...headers, host: HOST },
              },
            },
          },
        }),
      );
    const expectStatus = (response: CheckResponse, code: number) =>
      expect(response.status?.code ?? 0).toBe(code);

    it("DPoP scheme with a valid proof → allowed", async () => {
      const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
      const p = proof(env.agent.key, { htm: "GET", htu: `https://${HOST}/orders`, accessToken });
      const response = await check({ authorization: `DPoP ${accessToken}`, dpop: p });
      expectStatus(response, 0);
      expect(response.httpResponse.case).toBe("okResponse");
    });

    it("DPoP scheme without a proof, or the bound token as Bearer → 401", async () => {
      const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
      for (const headers of [
        { authorization: `DPoP ${accessToken}` },
        { authorization: `Bearer ${accessToken}` },
      ]) {
        const response = await check(headers);
        expectStatus(response, 16);
        if (response.httpResponse.case !== "deniedResponse") throw new Error("not denied");
        const denied = response.httpResponse.value;
        expect(denied.status?.code).toBe(401);
        expect(JSON.parse(denied.body)).toEqual({ reason: "REASON_TOKEN_BOUND_TO_KEY" });
        const challenge = denied.headers.find((h) => h.header?.key === "www-authenticate");
        expect(challenge?.header?.value).toMatch(/^DPoP error="invalid_token"/);
      }
    });
  });

  if (storeKind === "redis") {
    it("a proof replayed on a second instance sharing the Redis store → DPOP_REPLAYED", async () => {
      const second = await startTestGatehouse({
        storeKind,
        clock: env.clock,
        dataDir: env.gh.dataDir,
        redisUrl: redisUrl(),
      });
      const secondVerifier = grpcClients(
        second,
        await second.clientTls({ role: "verifier", name: "v2" }),
      );
      try {
        const { accessToken } = await dpopLogin(env.clients.gate, env.agent);
        const p = proof(env.agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken });
        expect((await verify(accessToken, p)).allowed).toBe(true);
        const replay = await secondVerifier.verify.verify({
          token: accessToken,
          audience: AUDIENCE,
          requiredScopes: [],
          dpopProof: p,
          httpMethod: "GET",
          httpUrl: RESOURCE_URL,
        });
        expect(Reason[replay.reason]).toBe(Reason[Reason.DPOP_REPLAYED]);
      } finally {
        secondVerifier.close();
        await second.stop();
      }
    });
  }

  describe("with server nonces", () => {
    let nonceGh: TestGatehouse;
    let nonceAgent: Enrolled;
    let nonceClients: Clients;
    let nonceVerifier: Clients;

    beforeAll(async () => {
      nonceGh = await startTestGatehouse({
        storeKind,
        clock: env.clock,
        ...redis(),
        overrides: { dpop: { nonces: true, nonceSecret: NONCE_SECRET } },
      });
      rememberSecret(NONCE_SECRET);
      nonceAgent = await enrollAgent(nonceGh);
      nonceClients = grpcClients(nonceGh, nonceAgent.agentTls);
      nonceVerifier = grpcClients(nonceGh, nonceAgent.verifierTls);
    });
    afterAll(async () => {
      nonceClients?.close();
      nonceVerifier?.close();
      await nonceGh?.dispose();
    });

    it("Token: first proof → DPOP_NONCE_REQUIRED with a nonce; the retry with it → DPoP token", async () => {
      const connectGate = createClient(
        GateService,
        createMtlsTransport(nonceGh.connectUrl, nonceAgent.agentTls),
      );
      const { challengeId, signature } = await signedChallenge(nonceClients.gate, nonceAgent);
      const { passToken: pass } = await nonceClients.gate.submit({
        challengeId,
        answer: { case: "signature", value: { signature } },
      });
      rememberSecret(pass);
      let nonce = "";
      try {
        await connectGate.token({
          grant: { case: "passToken", value: pass },
          dpopProof: proof(nonceAgent.key, { htm: "POST", htu: TOKEN_URL }),
        });
        throw new Error("expected DPOP_NONCE_REQUIRED");
      } catch (error) {
        if (!(error instanceof ConnectError)) throw error;
        const [detail] = error.findDetails(ErrorDetailSchema);
        expect(Reason[detail?.reason ?? 0]).toBe(Reason[Reason.DPOP_NONCE_REQUIRED]);
        nonce = detail?.dpopNonce ?? "";
      }
      expect(nonce).not.toBe("");
      // The pass was not consumed by the refused attempt: the retry redeems it.
      const response = await nonceClients.gate.token({
        grant: { case: "passToken", value: pass },
        dpopProof: proof(nonceAgent.key, { htm: "POST", htu: TOKEN_URL, nonce }),
      });
      rememberSecret(response.accessToken);
      expect(response.tokenType).toBe("DPoP");
      expect(response.dpopNonce).not.toBe("");

      // Verify: no nonce → DPOP_NONCE_REQUIRED with the nonce in the response; retry → allowed.
      const { accessToken } = response;
      const first = await nonceVerifier.verify.verify({
        token: accessToken,
        audience: AUDIENCE,
        requiredScopes: [],
        dpopProof: proof(nonceAgent.key, { htm: "GET", htu: RESOURCE_URL, accessToken }),
        httpMethod: "GET",
        httpUrl: RESOURCE_URL,
      });
      expect(Reason[first.reason]).toBe(Reason[Reason.DPOP_NONCE_REQUIRED]);
      expect(first.dpopNonce).not.toBe("");
      const retry = await nonceVerifier.verify.verify({
        token: accessToken,
        audience: AUDIENCE,
        requiredScopes: [],
        dpopProof: proof(nonceAgent.key, {
          htm: "GET",
          htu: RESOURCE_URL,
          accessToken,
          nonce: first.dpopNonce,
        }),
        httpMethod: "GET",
        httpUrl: RESOURCE_URL,
      });
      expect(retry.allowed).toBe(true);
    });
  });
});
