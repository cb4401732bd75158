import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createConnectClient, createMtlsTransport } from "../../src/client/connect-client.js";
import { AUDIENCE, enrollAgent, grpcClients, login } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";

describe("walking skeleton: one agent login end to end", () => {
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startTestGatehouse();
  });
  afterAll(async () => {
    await gh.dispose();
  });

  it("logs in over grpc-js with mTLS and the token verifies", async () => {
    const agent = await enrollAgent(gh);
    const clients = grpcClients(gh, agent.agentTls);
    const verifier = grpcClients(gh, agent.verifierTls);
    try {
      const token = await login(clients.gate, agent, ["orders:read"]);
      const header = decodeProtectedHeader(token);
      expect(header).toMatchObject({ alg: "EdDSA", typ: "at+jwt" });
      expect(header.kid).toBeTypeOf("string");
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({
        iss: "https://gatehouse.test",
        sub: agent.did,
        aud: AUDIENCE,
        scope: "orders:read",
        operator: agent.domain,
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
      expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const decision = await verifier.verify.verify({
        token,
        audience: AUDIENCE,
        requiredScopes: ["orders:read"],
      });
      expect(decision.allowed).toBe(true);
      expect(decision.reason).toBe(Reason.UNSPECIFIED);
      expect(decision.agentDid).toBe(agent.did);
      expect(decision.operatorDomain).toBe(agent.domain);
      expect(decision.scopes).toEqual(["orders:read"]);
      expect(decision.tokenId).toBe(claims.jti);
      expect(decision.cacheTtlSeconds).toBeGreaterThan(0);

      const jwks = await verifier.verify.getJwks({});
      expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
      expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    } finally {
      clients.close();
      verifier.close();
    }
  });

  for (const protocol of ["connect-json", "connect-binary", "grpc"] as const) {
    it(`logs in over connect-node (${protocol}) with mTLS`, async () => {
      const agent = await enrollAgent(gh);
      const gate = createConnectClient(
        GateService,
        createMtlsTransport(gh.connectUrl, agent.agentTls, protocol),
      );
      const verify = createConnectClient(
        VerifyService,
        createMtlsTransport(gh.connectUrl, agent.verifierTls, protocol),
      );
      const token = await login(gate, agent, ["orders:read", "orders:write"]);
      const decision = await verify.verify({
        token,
        audience: AUDIENCE,
        requiredScopes: ["orders:write"],
      });
      expect(decision.allowed).toBe(true);
      expect(decision.scopes).toEqual(["orders:read", "orders:write"]);
    });
  }
});
