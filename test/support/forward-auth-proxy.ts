import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpopProof } from "../../src/client/agent-keys.js";
import type { ClientTls } from "../../src/client/credentials.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
  SCOPES,
  signedChallenge,
} from "./flows.js";
import type { TestGatehouse } from "./gatehouse.js";
import {
  type ProxyProcess,
  SPOOFED_IDENTITY,
  startApp,
  type TestApp,
  viaProxy,
  vouchedFor,
  waitUntilReady,
} from "./proxies.js";
import { rememberSecret } from "./secrets.js";
import { freePort, startTestSidecar, type TestSidecar } from "./sidecar.js";

/** The host the shipped Traefik router and Envoy virtual host route. */
export const APP_HOST = "app.example.com";
const OTHER_AUDIENCE = "https://other.example.com";
/** An MCP server behind the proxy: its tokens' audience is its canonical URI. */
const MCP_RESOURCE = `https://${APP_HOST}/mcp`;
const ROUTES = [
  {
    host: APP_HOST,
    path_prefix: "/orders",
    resource: `https://${APP_HOST}/orders`,
    audience: AUDIENCE,
    scopes: ["orders:read"],
  },
  {
    host: APP_HOST,
    path_prefix: "/admin",
    resource: `https://${APP_HOST}/admin`,
    audience: AUDIENCE,
    scopes: ["orders:write"],
  },
  {
    host: APP_HOST,
    path_prefix: "/mcp",
    resource: MCP_RESOURCE,
    scopes: ["orders:read"],
    mcp: true,
    mcp_scopes: [{ method: "tools/call", name: "refund", scopes: ["orders:write"] }],
  },
];
/** What a client may claim about the request it makes, hoping /auth believes it. */
const FORGED_FORWARDING = {
  "x-original-uri": "/orders/1",
  "x-original-method": "GET",
  "x-forwarded-uri": "/orders/1",
  "x-forwarded-method": "GET",
  "x-forwarded-host": APP_HOST,
  "x-forwarded-proto": "https",
};
const eur = (minorUnits: number) => ({ currency: "EUR", minorUnits: BigInt(minorUnits) });

/** Where a proxy under test finds what it needs: addresses, and files in `dir`. */
export interface ProxySetup {
  readonly sidecar: TestSidecar;
  readonly app: TestApp;
  /** A temporary directory holding `ca.pem`, `proxy.pem` and `proxy-key.pem` (role proxy). */
  readonly dir: string;
  /** The loopback port the proxy must listen on (plain HTTP). */
  readonly port: number;
}

/** A proxy asking the sidecar's `/auth`, and how it tells what it cannot pass through. */
export interface ForwardAuthProxy {
  readonly title: string;
  start(setup: ProxySetup): Promise<ProxyProcess>;
  /** The scheme `/auth` learns for the original request (the DPoP proof's `htu`). */
  readonly originalScheme: "http" | "https";
  /** Names aliasing `X-Gatehouse-Agent` for CGI-style backends that the proxy drops. */
  readonly droppedAliases: readonly string[];
  /** What the client gets when the sidecar cannot be reached. */
  readonly statusWhenSidecarDown: number;
}

/**
 * One suite for every proxy in front of the sidecar's forward-auth `/auth` (the memory store:
 * proxies are stateless). The sidecar requires a client certificate on `/auth`, so a pass
 * also proves the proxy presented its own.
 */
export function describeForwardAuthProxy(proxy: ForwardAuthProxy): void {
  describe(proxy.title, () => {
    // Real time, moved forward by the expiry test (DPoP proofs carry the real time).
    let skipped = 0;
    const clock = { now: () => Date.now() + skipped };
    let t: TestSidecar;
    let agent: Enrolled;
    let clients: Clients;
    let token: string;
    let app: TestApp;
    let running: ProxyProcess | undefined;
    let dir: string;
    let port: number;
    let sidecarStopped = false;
    let gatehouseStopped = false;

    const get = (path: string, headers: Record<string, string> = {}) =>
      viaProxy(port, path, { host: APP_HOST, ...headers });

    beforeAll(async () => {
      t = await startTestSidecar({
        clock,
        overrides: { sidecar: { routes: ROUTES, forwardAuthRequiresClientCert: true } as never },
      });
      agent = await enrollAgent(t.gh, { audiences: [AUDIENCE, OTHER_AUDIENCE, MCP_RESOURCE] });
      clients = grpcClients(t.gh, agent.agentTls);
      token = await login(clients.gate, agent);
      app = await startApp();
      dir = await mkdtemp(join(tmpdir(), "gatehouse-proxy-"));
      await writeTls(dir, t.gh.caPem, await t.gh.clientTls({ role: "proxy", name: "proxy" }));
      port = await freePort();
      const started = await proxy.start({ sidecar: t, app, dir, port });
      running = started;
      // Ready once the proxy routes to /auth: a request without a token is challenged.
      await waitUntilReady(proxy.title, started, async () => (await get("/orders")).status === 401);
    });

    afterAll(async () => {
      await running?.stop();
      clients?.close();
      app?.server.close();
      if (t && !sidecarStopped) await t.sidecar.stop();
      if (t && gatehouseStopped) await rm(t.gh.dataDir, { recursive: true, force: true });
      else await t?.gh.dispose();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("passes an allowed bearer token with the identity headers the sidecar set", async () => {
      const answer = await get("/orders/1?x=1", { authorization: `Bearer ${token}` });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.json()).toEqual(vouchedFor("/orders/1?x=1", agent));
    });

    it("overwrites identity headers the client sent, and ignores its forwarding claims", async () => {
      const answer = await get("/orders/2", {
        authorization: `Bearer ${token}`,
        ...SPOOFED_IDENTITY,
      });
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual(vouchedFor("/orders/2", agent));
      const aliased = await get("/orders/3", {
        authorization: `Bearer ${token}`,
        ...Object.fromEntries(
          proxy.droppedAliases.map((name) => [name, "did:agent:evil.example:x"]),
        ),
      });
      expect(aliased.json()).toEqual(vouchedFor("/orders/3", agent));
      expect(app.aliases).toEqual([]);
      // /auth is asked about the real request, not about what the client says it was.
      const before = app.hits.length;
      const forged = await get("/admin/users", {
        authorization: `Bearer ${token}`,
        ...FORGED_FORWARDING,
      });
      expect(forged.status).toBe(403);
      expect(app.hits.length).toBe(before);
    });

    it("routes no other host: a token does not open a host the proxy was not told about", async () => {
      const before = app.hits.length;
      const answer = await viaProxy(port, "/orders/1", {
        host: "evil.example.com",
        authorization: `Bearer ${token}`,
      });
      expect(answer.status).toBe(404);
      expect(app.hits.length).toBe(before);
    });

    it("relays 401 with WWW-Authenticate for a missing, invalid or wrong-audience token", async () => {
      const before = app.hits.length;
      const missing = await get("/orders/1", { "x-gatehouse-agent": agent.did });
      expect(missing.status).toBe(401);
      expect(missing.headers["www-authenticate"]).toBe(
        `Bearer realm="https://${APP_HOST}/orders", resource_metadata="https://${APP_HOST}/.well-known/oauth-protected-resource/orders", scope="orders:read"`,
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
      const headers = { authorization: `Bearer ${token}` };
      const answer = await get("/admin/users", headers);
      expect(answer.status).toBe(403);
      expect(answer.headers["www-authenticate"]).toContain('error="insufficient_scope"');
      expect(answer.headers["www-authenticate"]).toContain('scope="orders:write"');
      expect((await get("/orders/../admin/users", headers)).status).toBe(403);
      expect(app.hits.length).toBe(before);
    });

    it("binds a DPoP token to its proof for the request the proxy forwards", async () => {
      const bound = await dpopBoundToken(clients, agent, `${t.url}/v1/tokens`);
      const proof = (path: string) =>
        dpopProof(agent.key, {
          htm: "GET",
          htu: `${proxy.originalScheme}://${APP_HOST}${path}`,
          accessToken: bound,
        });
      const authorization = `DPoP ${bound}`;
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
        authorization: `Bearer ${bound}`,
        dpop: proof("/orders/7"),
      });
      expect(asBearer.status).toBe(401);
    });

    it("passes /auth the MCP headers it reads: a tools/call of a tool needs that tool's scope", async () => {
      const reader = `Bearer ${await login(clients.gate, agent, ["orders:read"], MCP_RESOURCE)}`;
      const call = (name: string) => ({
        authorization: reader,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": name,
      });
      expect((await get("/mcp", call("search"))).status).toBe(200);
      const refund = await get("/mcp", call("refund"));
      expect(refund.status).toBe(403);
      expect(refund.headers["www-authenticate"]).toContain('scope="orders:read orders:write"');
    });

    it("relays the envelope's 402 (amount over the cap) and 429 (request rate)", async () => {
      const authorization = `Bearer ${await limitedAgentToken(t.gh)}`;
      const before = app.hits.length;
      const over = await get("/orders/1", { authorization, "gatehouse-amount": "EUR 5000" });
      expect(over.status).toBe(402);
      const within = await get("/orders/1", { authorization, "gatehouse-amount": "EUR 500" });
      expect(within.status).toBe(200);
      expect((await get("/orders/1", { authorization })).status).toBe(429);
      expect(app.hits.length).toBe(before + 1);
    });

    it("relays 401 invalid_token once the token has expired", async () => {
      const before = app.hits.length;
      skipped += 600_000; // past the default 300 s lifetime and the 30 s skew
      const expired = await get("/orders/1", { authorization: `Bearer ${token}` });
      expect(expired.status).toBe(401);
      expect(expired.headers["www-authenticate"]).toContain('error="invalid_token"');
      expect(app.hits.length).toBe(before);
    });

    it(`fails closed: the sidecar's 503 with Gatehouse down, ${proxy.statusWhenSidecarDown} with the sidecar down`, async () => {
      const authorization = `Bearer ${await login(clients.gate, agent)}`;
      expect((await get("/orders/1", { authorization })).status).toBe(200);
      const before = app.hits.length;
      await t.gh.stop();
      gatehouseStopped = true;
      expect((await get("/orders/1", { authorization })).status).toBe(503);
      await t.sidecar.stop();
      sidecarStopped = true;
      const answer = await get("/orders/1", { authorization });
      expect(answer.status).toBe(proxy.statusWhenSidecarDown);
      expect(app.hits.length).toBe(before);
    });
  });
}

/** The CA and a client certificate as the shipped proxy configurations name them. */
export async function writeTls(dir: string, caPem: string, tls: ClientTls): Promise<void> {
  await writeFile(join(dir, "ca.pem"), caPem);
  await writeFile(join(dir, "proxy.pem"), tls.cert);
  await writeFile(join(dir, "proxy-key.pem"), tls.key, { mode: 0o600 });
}

/** A DPoP-bound access token for `agent` (RFC 9449 §5), proved for the token endpoint. */
export async function dpopBoundToken(clients: Clients, agent: Enrolled, tokenUrl: string) {
  const { challengeId, signature } = await signedChallenge(clients.gate, agent);
  const { passToken } = await clients.gate.submit({
    challengeId,
    answer: { case: "signature", value: { signature } },
  });
  const tokenProof = dpopProof(agent.key, { htm: "POST", htu: tokenUrl });
  const bound = await clients.gate.token({
    grant: { case: "passToken", value: passToken },
    dpopProof: tokenProof,
  });
  rememberSecret(passToken, bound.accessToken, tokenProof);
  expect(bound.tokenType).toBe("DPoP");
  return bound.accessToken;
}

/**
 * A fresh agent's token under an envelope of EUR 10.00 a transaction and two requests an hour:
 * EUR 50.00 is refused (402), then one request passes, and the next is one too many (429).
 */
export async function limitedAgentToken(gh: TestGatehouse): Promise<string> {
  const limited = await enrollAgent(gh);
  const operator = grpcClients(gh, limited.operatorTls);
  const own = grpcClients(gh, limited.agentTls);
  try {
    await operator.registry.updateAgentPolicy({
      did: limited.did,
      policy: {
        scopes: SCOPES,
        audiences: [AUDIENCE],
        envelope: { maxTransaction: eur(1000), maxRequests: 2, requestWindow: { seconds: 3600n } },
      },
    });
    return await login(own.gate, limited);
  } finally {
    operator.close();
    own.close();
  }
}
