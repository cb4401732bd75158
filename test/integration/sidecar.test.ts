import type { ClientHttp2Session } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jwtBearerAssertion } from "../../src/client/agent-keys.js";
import { FORWARDED_HEADERS } from "../../src/identity/forwarded.js";
import { AUDIENCE, type Enrolled, enrollAgent, SCOPES } from "../support/flows.js";
import { rememberSecret } from "../support/secrets.js";
import {
  expectRefusal,
  type HttpCall,
  h2,
  http1,
  http2Session,
  restLogin,
  startTestSidecar,
  type TestSidecar,
} from "../support/sidecar.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const redisUrl = useRedis();

describe.each(STORE_KINDS)("sidecar (%s store)", (storeKind) => {
  let t: TestSidecar;
  let agent: Enrolled;
  let session: ClientHttp2Session;
  const get = (path: string, call?: HttpCall) => http1(t.gh.caPem, `${t.url}${path}`, call);

  beforeAll(async () => {
    t = await startTestSidecar({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });
    agent = await enrollAgent(t.gh);
    session = http2Session(t.gh.caPem, t.url);
  });
  afterAll(async () => {
    session?.close();
    await t?.stop();
  });

  it("answers over HTTP/1.1 and HTTP/2 on one TLS port", async () => {
    expect((await get("/healthz")).status).toBe(200);
    const answer = await h2(session, "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ status: "ok" });
    expect((await get("/readyz")).status).toBe(200);
  });

  it("publishes the JWK Set with Cache-Control, an ETag and 304", async () => {
    const answer = await get("/.well-known/jwks.json");
    expect(answer.status).toBe(200);
    const { keys } = answer.json() as { keys: Record<string, string>[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatchObject({ use: "sig" });
      expect(key.kid).toMatch(/^[\w-]{43}$/);
      expect(key).not.toHaveProperty("d");
      expect(Object.values(key)).not.toContain("");
    }
    expect(answer.headers["cache-control"]).toBe("public, max-age=300");
    const etag = answer.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await h2(session, "/.well-known/jwks.json", {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    const stale = await get("/.well-known/jwks.json", { headers: { "if-none-match": '"other"' } });
    expect(stale.status).toBe(200);
  });

  it("advertises only URLs that answer 200 (RFC 8414), under the sidecar's public URL", async () => {
    const answer = await get("/.well-known/oauth-authorization-server");
    expect(answer.status).toBe(200);
    const meta = answer.json() as Record<string, unknown>;
    expect(meta.issuer).toBe("https://gatehouse.test");
    expect(meta.jwks_uri).toBe(`${t.url}/.well-known/jwks.json`);
    expect(meta.token_endpoint).toBe(`${t.url}/oauth2/token`);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(["private_key_jwt"]);
    expect(meta.grant_types_supported).toEqual([
      "client_credentials",
      "urn:ietf:params:oauth:grant-type:jwt-bearer",
      "urn:ietf:params:oauth:grant-type:token-exchange",
    ]);
    expect(meta.dpop_signing_alg_values_supported).toContain("EdDSA");
    expect((await http1(t.gh.caPem, meta.jwks_uri as string)).status).toBe(200);
    // The token endpoint: an agent-signed client assertion, the agent's certificate besides.
    const clientAssertion = await jwtBearerAssertion(agent.key, {
      did: agent.did,
      audience: meta.issuer as string,
      lifetimeSeconds: 60,
    });
    rememberSecret(clientAssertion);
    const issued = await http1(t.gh.caPem, meta.token_endpoint as string, {
      method: "POST",
      tls: agent.agentTls,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: clientAssertion,
        scope: "orders:read",
        resource: AUDIENCE,
      }).toString(),
    });
    expect(issued.status, issued.text).toBe(200);
    rememberSecret(String((issued.json() as Record<string, unknown>).access_token));

    // Gatehouse's own document: GetIssuerMetadata's URLs, under the sidecar's public URL.
    const own = (await get("/.well-known/gatehouse")).json() as Record<string, string>;
    expect(own.token_endpoint).toBe(`${t.url}/v1/tokens`);
    expect(own.oauth_token_endpoint).toBe(meta.token_endpoint);
    // The REST token endpoint: a whole login, the agent identified by its certificate.
    const token = await restLogin(t, agent);
    expect(token.split(".")).toHaveLength(3);
    expect(own.jwks_uri).toBe(meta.jwks_uri);
    expect(own.forward_auth_endpoint).toBe(`${t.url}/auth`);
  });

  it("refuses bad HTTP requests with typed JSON errors, never a 500", async () => {
    const tls = agent.agentTls;
    expectRefusal(await get("/nowhere"), 404, "REASON_HTTP_ROUTE_NOT_FOUND");
    expectRefusal(await get("/v1/challenges", { tls }), 405, "REASON_HTTP_METHOD_NOT_ALLOWED");
    const post = (body: string) => get("/v1/challenges", { method: "POST", body, tls });
    expectRefusal(await post("{"), 400, "REASON_INVALID_ARGUMENT");
    expectRefusal(await post("[]"), 400, "REASON_INVALID_ARGUMENT");
    expectRefusal(await post('{"noSuchField":1}'), 400, "REASON_INVALID_ARGUMENT");
    expectRefusal(await post(`{"did":"${"x".repeat(70_000)}"}`), 413, "REASON_HTTP_BODY_TOO_LARGE");
    expectRefusal(await get("/v1/agents/%zz", { tls }), 404, "REASON_HTTP_ROUTE_NOT_FOUND");
  });

  it("needs a client certificate for REST and never trusts identity headers from outside", async () => {
    const verifyBody = JSON.stringify({ token: "a.b.c", audience: "https://api.example.com" });
    // No certificate: refused here, not sent to Gatehouse as the sidecar.
    const anonymous = await get("/v1/tokens:verify", { method: "POST", body: verifyBody });
    expectRefusal(anonymous, 401, "REASON_UNAUTHENTICATED");
    // An agent claiming a verifier's certificate in the forwarded-identity headers stays an agent.
    const spoofed = await get("/v1/tokens:verify", {
      method: "POST",
      body: verifyBody,
      tls: agent.agentTls,
      headers: {
        [FORWARDED_HEADERS.cert]: encodeURIComponent(agent.verifierTls.cert.toString()),
        [FORWARDED_HEADERS.at]: String(Math.floor(Date.now() / 1000)),
        [FORWARDED_HEADERS.mac]: "AAAA",
      },
    });
    expectRefusal(spoofed, 403, "REASON_PERMISSION_DENIED");
    // The verifier's own certificate may verify.
    const verifier = await h2(
      http2Session(t.gh.caPem, t.url, agent.verifierTls),
      "/v1/tokens:verify",
      {
        method: "POST",
        body: verifyBody,
      },
    );
    expect(verifier.status, verifier.text).toBe(200);
    expect(verifier.json()).toMatchObject({ allowed: false, reason: "REASON_TOKEN_MALFORMED" });
  });

  it("maps path variables and query parameters onto the request message", async () => {
    const tls = agent.operatorTls;
    const one = await get(`/v1/agents/${encodeURIComponent(agent.did)}`, { tls });
    expect(one.status, one.text).toBe(200);
    expect(one.json()).toMatchObject({ agent: { did: agent.did, policy: { scopes: SCOPES } } });
    const list = await get("/v1/agents?page_size=1", { tls });
    expect(list.status, list.text).toBe(200);
    expect((list.json() as { agents: unknown[] }).agents).toHaveLength(1);
    expectRefusal(await get("/v1/agents?page_size=x", { tls }), 400, "REASON_INVALID_ARGUMENT");
    expectRefusal(await get("/v1/agents?nope=1", { tls }), 400, "REASON_INVALID_ARGUMENT");
  });
});

describe("sidecar without Gatehouse", () => {
  it("answers 503 (fail closed) when Gatehouse is unreachable", async () => {
    const t = await startTestSidecar();
    try {
      const agent = await enrollAgent(t.gh);
      await t.gh.stop();
      const ready = await http1(t.gh.caPem, `${t.url}/readyz`);
      expectRefusal(ready, 503, "REASON_UNAVAILABLE");
      const jwks = await http1(t.gh.caPem, `${t.url}/.well-known/jwks.json`);
      expectRefusal(jwks, 503, "REASON_UNAVAILABLE");
      const rest = await http1(t.gh.caPem, `${t.url}/v1/challenges`, {
        method: "POST",
        body: JSON.stringify({ did: agent.did, kind: "CHALLENGE_KIND_SIGNATURE" }),
        tls: agent.agentTls,
      });
      expectRefusal(rest, 503, "REASON_UNAVAILABLE");
    } finally {
      await t.sidecar.stop();
    }
  });
});

describe("sidecar limits", () => {
  let t: TestSidecar;
  let agent: Enrolled;
  beforeAll(async () => {
    t = await startTestSidecar({
      overrides: { sidecar: { requestTimeoutMs: 500, maxHeaderBytes: 4096 } },
    });
    agent = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());

  it("refuses oversized headers (431) on HTTP/1.1 and HTTP/2", async () => {
    const headers = { "x-padding": "a".repeat(8192) };
    expectRefusal(
      await http1(t.gh.caPem, `${t.url}/healthz`, { headers }),
      431,
      "REASON_HTTP_HEADERS_TOO_LARGE",
    );
    const session = http2Session(t.gh.caPem, t.url);
    try {
      const answer = await h2(session, "/healthz", { headers });
      expectRefusal(answer, 431, "REASON_HTTP_HEADERS_TOO_LARGE");
    } finally {
      session.destroy();
    }
  });

  it("answers a malformed HTTP/1.1 request with a typed 400, never a bare close", async () => {
    const { connect } = await import("node:tls");
    const url = new URL(t.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(
        { host: url.hostname, port: Number(url.port), ca: t.gh.caPem, ALPNProtocols: ["http/1.1"] },
        () => socket.end("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
      );
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk;
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    expect(raw.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
    expect(raw).toContain("content-type: application/json");
    expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)).reason).toBe(
      "REASON_INVALID_ARGUMENT",
    );
  });

  it("answers 408 when a request does not complete in time", async () => {
    const { request } = await import("node:https");
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${t.url}/v1/challenges`, {
        method: "POST",
        ca: t.gh.caPem,
        agent: false,
        cert: agent.agentTls.cert,
        key: agent.agentTls.key,
        headers: { "content-type": "application/json", "content-length": "100" },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write("{"); // and never the rest
    });
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ reason: "REASON_HTTP_REQUEST_TIMEOUT" });
  });
});
