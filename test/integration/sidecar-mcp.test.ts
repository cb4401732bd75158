import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  login,
} from "../support/flows.js";
import { type HttpAnswer, http1, startTestSidecar, type TestSidecar } from "../support/sidecar.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const redisUrl = useRedis();
const RESOURCE = "https://mcp.test/mcp";
const MODERN = "2026-07-28";
const METADATA = "https://mcp.test/.well-known/oauth-protected-resource/mcp";

const ROUTES = [
  {
    host: "mcp.test",
    path_prefix: "/mcp",
    resource: RESOURCE,
    scopes: ["orders:read"],
    mcp: true,
    mcp_scopes: [
      { method: "tools/call", name: "refund", scopes: ["orders:write"] },
      { method: "tools/call", name: "Prüfung", scopes: ["orders:write"] },
    ],
  },
];

/** Base64 sentinel of the MCP Streamable HTTP transport ("Value Encoding"). */
const sentinel = (value: string) => `=?base64?${Buffer.from(value).toString("base64")}?=`;

describe.each(STORE_KINDS)("forward-auth for an MCP server (%s store)", (storeKind) => {
  let t: TestSidecar;
  let agent: Enrolled;
  let clients: Clients;
  let reader: string;
  let writer: string;

  const tokenFor = (scopes: string[], audience: string) =>
    login(clients.gate, agent, scopes, audience);

  beforeAll(async () => {
    t = await startTestSidecar({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
      overrides: { sidecar: { routes: ROUTES } as never },
    });
    agent = await enrollAgent(t.gh, {
      scopes: ["orders:read", "orders:write"],
      audiences: [AUDIENCE, RESOURCE],
    });
    clients = grpcClients(t.gh, agent.agentTls);
    reader = await tokenFor(["orders:read"], RESOURCE);
    writer = await tokenFor(["orders:read", "orders:write"], RESOURCE);
  });
  afterAll(async () => {
    clients?.close();
    await t?.stop();
  });

  /** nginx's auth_request for a POST to the MCP endpoint, with the MCP headers. */
  const auth = (headers: Record<string, string>): Promise<HttpAnswer> =>
    http1(t.gh.caPem, `${t.url}/auth`, {
      headers: {
        "x-original-method": "POST",
        "x-original-uri": "/mcp",
        "x-forwarded-host": "mcp.test",
        ...headers,
      },
    });
  const toolCall = (name: string, version = MODERN) => ({
    "mcp-protocol-version": version,
    "mcp-method": "tools/call",
    "mcp-name": name,
  });

  it("needs a tool's scopes for tools/call when the version validates the headers", async () => {
    const refused = await auth({ authorization: `Bearer ${reader}`, ...toolCall("refund") });
    expect(refused.status).toBe(403);
    expect(refused.headers["www-authenticate"]).toBe(
      `Bearer realm="${RESOURCE}", resource_metadata="${METADATA}", error="insufficient_scope", scope="orders:read orders:write"`,
    );
    const allowed = await auth({ authorization: `Bearer ${writer}`, ...toolCall("refund") });
    expect(allowed.status).toBe(200);
    expect(allowed.headers["x-gatehouse-scopes"]).toBe("orders:read orders:write");
    // Another tool, and another method, need only the resource's scopes.
    expect((await auth({ authorization: `Bearer ${reader}`, ...toolCall("list") })).status).toBe(
      200,
    );
    const list = { "mcp-protocol-version": MODERN, "mcp-method": "tools/list" };
    expect((await auth({ authorization: `Bearer ${reader}`, ...list })).status).toBe(200);
  });

  it("challenges without a token with resource_metadata and every scope the call needs", async () => {
    const answer = await auth(toolCall("refund"));
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe(
      `Bearer realm="${RESOURCE}", resource_metadata="${METADATA}", scope="orders:read orders:write"`,
    );
    const plain = await auth({});
    expect(plain.headers["www-authenticate"]).toContain('scope="orders:read"');
    const metadata = await http1(t.gh.caPem, `${t.url}${new URL(METADATA).pathname}`, {
      headers: { "x-forwarded-host": "mcp.test" },
    });
    expect(metadata.status).toBe(200);
    expect(metadata.json()).toMatchObject({
      resource: RESOURCE,
      scopes_supported: ["orders:read"],
    });
  });

  it("decodes Base64-sentinel names, and denies repeated or broken MCP headers", async () => {
    const encoded = await auth({
      authorization: `Bearer ${reader}`,
      ...toolCall(sentinel("Prüfung")),
    });
    expect(encoded.status).toBe(403);
    expect(encoded.headers["www-authenticate"]).toContain('error="insufficient_scope"');
    // "refund" hidden behind the sentinel is still "refund".
    const hidden = await auth({
      authorization: `Bearer ${reader}`,
      ...toolCall(sentinel("refund")),
    });
    expect(hidden.status).toBe(403);
    for (const broken of ["=?base64?***?=", "=?base64?cmVmdW5k", "=?base64?cmVmdW5k=?="]) {
      const answer = await auth({ authorization: `Bearer ${writer}`, ...toolCall(broken) });
      expect(answer.status, broken).toBe(403);
      expect(answer.headers["www-authenticate"]).toBeUndefined();
    }
    const repeated = await new Promise<number>((resolve, reject) => {
      // Two Mcp-Name headers: which one the MCP server reads is not the proxy's to guess.
      import("node:https").then(({ request }) => {
        const req = request(`${t.url}/auth`, {
          ca: t.gh.caPem,
          agent: false,
          // An array value goes out as one header line per value.
          headers: {
            "x-original-method": "POST",
            "x-original-uri": "/mcp",
            "x-forwarded-host": "mcp.test",
            authorization: `Bearer ${writer}`,
            "mcp-protocol-version": MODERN,
            "mcp-method": "tools/call",
            "mcp-name": ["list", "refund"],
          },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      }, reject);
    });
    expect(repeated).toBe(403);
  });

  it("applies only the resource's scopes where the version does not bind headers to the body", async () => {
    for (const version of ["2025-11-25", "latest", ""]) {
      const answer = await auth({
        authorization: `Bearer ${reader}`,
        ...toolCall("refund", version),
      });
      expect(answer.status, version).toBe(200);
    }
    const none = await auth({
      authorization: `Bearer ${reader}`,
      "mcp-method": "tools/call",
      "mcp-name": "refund",
    });
    expect(none.status).toBe(200);
  });

  it("accepts only tokens issued for the MCP server's canonical URI", async () => {
    const elsewhere = await tokenFor(["orders:read", "orders:write"], AUDIENCE);
    const answer = await auth({ authorization: `Bearer ${elsewhere}`, ...toolCall("list") });
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toContain('error="invalid_token"');
  });

  it("answers the token's identity, never one the request claims", async () => {
    const answer = await auth({
      authorization: `Bearer ${reader}`,
      "x-gatehouse-agent": "did:agent:evil.example:00000000000000000000000000000000",
      "x-gatehouse-scopes": "orders:write",
      ...toolCall("list"),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers["x-gatehouse-agent"]).toBe(agent.did);
    expect(answer.headers["x-gatehouse-scopes"]).toBe("orders:read");
  });
});
