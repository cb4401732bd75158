import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIVE_DID_PROOFS } from "../../src/services/gate/abuse/live-did-proofs.js";
import { AUDIENCE, type Enrolled, enrollAgent, grpcClients, login } from "../support/flows.js";
import { auth4agentLogin, expectAuth4AgentRateLimited } from "../support/legacy.js";
import { SPOOFED_IDENTITY, startApp, type TestApp, vouchedFor } from "../support/proxies.js";
import { recordLogLine, rememberSecret } from "../support/secrets.js";
import {
  freePort,
  type HttpAnswer,
  h2,
  http1,
  http2Session,
  startTestSidecar,
  type TestSidecar,
} from "../support/sidecar.js";

const NGINX = "/usr/sbin/nginx";
/** The resource nginx's REST Verify stands for: a service's token must be issued for it. */
const REST_VERIFY = "https://gatehouse.test/v1/tokens:verify";
const TEMPLATE = join(import.meta.dirname, "../../infra/nginx/gatehouse.conf.template");

/** Fills the shipped template and starts nginx from a temporary prefix, in the foreground. */
async function startNginx(values: Record<string, string>, prefix: string): Promise<ChildProcess> {
  let config = await readFile(TEMPLATE, "utf8");
  for (const [name, value] of Object.entries(values))
    config = config.replaceAll(`@${name}@`, value);
  expect(config).not.toMatch(/@[A-Z_]+@/);
  await writeFile(join(prefix, "nginx.conf"), config);
  const child = spawn(
    NGINX,
    ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-e", join(prefix, "error.log")],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (chunk) => recordLogLine(String(chunk)));
  child.stderr?.on("data", (chunk) => recordLogLine(String(chunk)));
  return child;
}

// Never skipped: .ci/run installs Debian's nginx, and a missing binary fails loudly.
describe("nginx auth_request in front of an application", () => {
  let t: TestSidecar;
  let agent: Enrolled;
  let token: string;
  let service: Enrolled;
  let serviceToken: string;
  let app: TestApp;
  let nginx: ChildProcess | undefined;
  let prefix: string;
  let url: string;
  let ca: string;

  beforeAll(async () => {
    const routes = [
      {
        host: "*",
        path_prefix: "/orders",
        resource: "https://app.test/orders",
        audience: AUDIENCE,
        scopes: ["orders:read"],
      },
      {
        host: "*",
        path_prefix: "/admin",
        resource: "https://app.test/admin",
        audience: AUDIENCE,
        scopes: ["orders:write"],
      },
      {
        host: "*",
        path_prefix: "/v1/tokens:verify",
        resource: REST_VERIFY,
        scopes: ["tokens:verify"],
      },
    ];
    t = await startTestSidecar({
      overrides: {
        sidecar: {
          routes,
          forwardAuthRequiresClientCert: true,
          // nginx reaches the sidecar from loopback: its X-Forwarded-For names the client.
          legacyAuth4agent: true,
          trustedForwarders: ["127.0.0.1"],
        } as never,
      },
    });
    agent = await enrollAgent(t.gh);
    const clients = grpcClients(t.gh, agent.agentTls);
    token = await login(clients.gate, agent);
    clients.close();
    service = await enrollAgent(t.gh, { scopes: ["tokens:verify"], audiences: [REST_VERIFY] });
    const serviceClients = grpcClients(t.gh, service.agentTls);
    serviceToken = await login(serviceClients.gate, service, ["tokens:verify"], REST_VERIFY);
    serviceClients.close();
    app = await startApp();
    prefix = await mkdtemp(join(tmpdir(), "gatehouse-nginx-"));
    for (const dir of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
      await mkdir(join(prefix, dir));
    const pki = join(t.gh.dataDir, "pki");
    const proxy = await t.gh.clientTls({ role: "proxy", name: "nginx" });
    await writeFile(join(prefix, "proxy.pem"), proxy.cert);
    await writeFile(join(prefix, "proxy-key.pem"), proxy.key, { mode: 0o600 });
    await writeFile(join(prefix, "verifier.pem"), agent.verifierTls.cert);
    await writeFile(join(prefix, "verifier-key.pem"), agent.verifierTls.key, { mode: 0o600 });
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    ca = t.gh.caPem;
    nginx = await startNginx(
      {
        PREFIX: prefix,
        USER_DIRECTIVE: process.getuid?.() === 0 ? "user root;" : "",
        LISTEN: `127.0.0.1:${port}`,
        SERVER_CERT: join(pki, "server.pem"),
        SERVER_KEY: join(pki, "server-key.pem"),
        CLIENT_CA: join(pki, "ca.pem"),
        SIDECAR: `127.0.0.1:${t.sidecar.port}`,
        SIDECAR_NAME: "localhost",
        PROXY_CERT: join(prefix, "proxy.pem"),
        PROXY_KEY: join(prefix, "proxy-key.pem"),
        VERIFIER_CERT: join(prefix, "verifier.pem"),
        VERIFIER_KEY: join(prefix, "verifier-key.pem"),
        APP: `127.0.0.1:${app.port}`,
      },
      prefix,
    );
    await waitForNginx(url, ca, prefix);
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once("exit", resolve));
      nginx.kill("SIGQUIT");
      await exited;
    }
    app?.server.close();
    await t?.stop();
    if (prefix) await rm(prefix, { recursive: true, force: true });
  });

  it("passes an allowed request with Gatehouse's identity headers, over HTTP/1.1 and HTTP/2", async () => {
    const answer = await http1(ca, `${url}/orders/1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toEqual(vouchedFor("/orders/1", agent));
    const session = http2Session(ca, url);
    try {
      const viaH2 = await h2(session, "/orders/2", {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(viaH2.status).toBe(200);
      expect(viaH2.json()).toMatchObject({ agent: agent.did });
    } finally {
      session.close();
    }
  });

  it("challenges a request without a token (401 + WWW-Authenticate) and never reaches the app", async () => {
    const before = app.hits.length;
    const answer = await http1(ca, `${url}/orders/1`, {
      headers: { "x-gatehouse-agent": agent.did },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe(
      'Bearer realm="https://app.test/orders", resource_metadata="https://app.test/.well-known/oauth-protected-resource/orders", scope="orders:read"',
    );
    const bad = await http1(ca, `${url}/orders/1`, { headers: { authorization: "Bearer a.b.c" } });
    expect(bad.status).toBe(401);
    expect(bad.headers["www-authenticate"]).toContain('error="invalid_token"');
    expect(app.hits.length).toBe(before);
  });

  it("serves the protected resource's metadata (RFC 9728) without a token", async () => {
    const answer = await http1(ca, `${url}/.well-known/oauth-protected-resource/orders`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toMatchObject({
      resource: "https://app.test/orders",
      scopes_supported: ["orders:read"],
    });
  });

  it("strips identity headers a client sends itself", async () => {
    const answer = await http1(ca, `${url}/orders/3`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...SPOOFED_IDENTITY,
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual(vouchedFor("/orders/3", agent));
  });

  it("denies (403) missing scopes and unrouted paths", async () => {
    const before = app.hits.length;
    const headers = { authorization: `Bearer ${token}` };
    expect((await http1(ca, `${url}/admin/users`, { headers })).status).toBe(403);
    expect((await http1(ca, `${url}/orders/../admin/users`, { headers })).status).toBe(403);
    expect((await http1(ca, `${url}/elsewhere`, { headers })).status).toBe(403);
    expect(app.hits.length).toBe(before);
  });

  describe("the Auth4Agent-style routes, counted per client address", () => {
    /** A client without a certificate at `localAddress`, through nginx. */
    const viaNginx =
      (localAddress: string) =>
      (path: string, body: unknown, headers = {}) =>
        http1(ca, `${url}${path}`, {
          method: "POST",
          body: JSON.stringify(body),
          headers,
          localAddress,
        });

    it("forwards the real client address: a stranger's flood does not stop the agent logging in", async () => {
      const stranger = viaNginx("127.0.0.2");
      // The stranger claims the agent's address: nginx replaces the header with its own.
      const spoof = { "x-forwarded-for": "127.0.0.3" };
      const { perDidAndAddress } = LIVE_DID_PROOFS;
      const flood = [];
      for (let i = 0; i < perDidAndAddress + 2; i++)
        flood.push(await stranger("/v1/challenge", { did: agent.did }, spoof));
      expect(flood.map((answer) => answer.status)).toEqual([
        ...new Array(perDidAndAddress).fill(200),
        429,
        429,
      ]);
      expectAuth4AgentRateLimited(flood[perDidAndAddress] as HttpAnswer);
      for (const answer of flood.slice(0, perDidAndAddress)) {
        const { challenge, nonce } = answer.json() as { challenge: string; nonce: string };
        rememberSecret(challenge, nonce);
      }
      const token = await auth4agentLogin(viaNginx("127.0.0.3"), agent, AUDIENCE);
      const verified = await viaNginx("127.0.0.3")("/v1/verify", { token });
      expect(verified.json()).toMatchObject({ valid: true, claims: { sub: agent.did } });
    });

    it("refuses a trusted forwarder's request that names no valid client address", async () => {
      // Straight to the sidecar from 127.0.0.1, nginx's address: a trusted forwarder.
      for (const headers of [{}, { "x-forwarded-for": "not-an-address" }]) {
        const answer = await http1(ca, `https://127.0.0.1:${t.sidecar.port}/v1/challenge`, {
          method: "POST",
          body: JSON.stringify({ did: agent.did }),
          headers,
        });
        expect(answer.status, answer.text).toBe(401);
        expect(answer.json()).toEqual({
          error: "the trusted forwarder sent no valid X-Forwarded-For address",
        });
      }
    });
  });

  describe("REST Verify for a service with a bearer token and no client certificate", () => {
    const verify = (authorization: string | undefined, extra: Record<string, string> = {}) =>
      http1(ca, `${url}/v1/tokens:verify`, {
        method: "POST",
        headers: { ...(authorization === undefined ? {} : { authorization }), ...extra },
        body: JSON.stringify({ token, audience: AUDIENCE, requiredScopes: ["orders:read"] }),
      });

    it("answers Verify when the service's own token carries the route's scope", async () => {
      const answer = await verify(`Bearer ${serviceToken}`);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.json()).toMatchObject({ allowed: true, agentDid: agent.did });
    });

    it("challenges a service without a token, and refuses a token without the scope", async () => {
      const none = await verify(undefined);
      expect(none.status).toBe(401);
      expect(none.headers["www-authenticate"]).toContain('scope="tokens:verify"');
      // The agent's token is for another resource: not a credential for REST Verify.
      const wrong = await verify(`Bearer ${token}`);
      expect(wrong.status).toBe(401);
      expect(wrong.headers["www-authenticate"]).toContain('error="invalid_token"');
    });

    it("lends the verifier certificate to Verify only, whatever the client claims", async () => {
      const spoofed = await verify(`Bearer ${serviceToken}`, {
        "x-gatehouse-client-cert": encodeURIComponent(agent.adminTls.cert.toString()),
        "x-gatehouse-agent": "did:agent:evil.example:x",
      });
      expect(spoofed.status).toBe(200);
      // Any other REST path is the application's, behind forward-auth: no route, no pass.
      const registry = await http1(ca, `${url}/v1/operators`, {
        method: "POST",
        headers: { authorization: `Bearer ${serviceToken}` },
        body: JSON.stringify({ domain: "evil.example" }),
      });
      expect(registry.status).toBe(403);
      const encoded = await http1(ca, `${url}/v1/tokens%3Averify/../../operators`, {
        method: "POST",
        headers: { authorization: `Bearer ${serviceToken}` },
        body: "{}",
      });
      expect(encoded.status).toBeGreaterThanOrEqual(400);
      expect(encoded.status).toBeLessThan(500);
    });

    it("refuses a body over nginx's limit with 413, and bad JSON with the sidecar's 400", async () => {
      const big = await http1(ca, `${url}/v1/tokens:verify`, {
        method: "POST",
        headers: { authorization: `Bearer ${serviceToken}` },
        body: JSON.stringify({ token: "x".repeat(70_000) }),
      });
      expect(big.status).toBe(413);
      const bad = await http1(ca, `${url}/v1/tokens:verify`, {
        method: "POST",
        headers: { authorization: `Bearer ${serviceToken}` },
        body: "{not json",
      });
      expect(bad.status).toBe(400);
      expect(bad.json()).toMatchObject({ reason: "REASON_INVALID_ARGUMENT" });
    });
  });
});

/** Until nginx answers over TLS (or has exited, with its error log). */
async function waitForNginx(url: string, ca: string, prefix: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await http1(ca, `${url}/elsewhere`);
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        const log = await readFile(join(prefix, "error.log"), "utf8").catch(() => "");
        throw new Error(`nginx did not start: ${String(error)}\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
