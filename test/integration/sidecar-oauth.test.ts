import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jwtBearerAssertion } from "../../src/client/agent-keys.js";
import { AUDIENCE, type Enrolled, enrollAgent } from "../support/flows.js";
import { ISSUER } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { type HttpCall, http1, startTestSidecar, type TestSidecar } from "../support/sidecar.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const redisUrl = useRedis();
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

describe.each(STORE_KINDS)("OAuth token endpoint /oauth2/token (%s store)", (storeKind) => {
  let t: TestSidecar;
  let agent: Enrolled;

  beforeAll(async () => {
    t = await startTestSidecar({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });
    agent = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());

  const assertion = async () => {
    const value = await jwtBearerAssertion(agent.key, {
      did: agent.did,
      audience: ISSUER,
      lifetimeSeconds: 60,
    });
    rememberSecret(value);
    return value;
  };
  const post = (form: Record<string, string>, call: HttpCall = {}) =>
    http1(t.gh.caPem, `${t.url}/oauth2/token`, {
      method: "POST",
      tls: agent.agentTls,
      ...call,
      headers: { "content-type": "application/x-www-form-urlencoded", ...call.headers },
      body: new URLSearchParams(form).toString(),
    });
  const expectError = async (
    answer: Promise<{ status: number; text: string; json(): unknown }>,
    status: number,
    error: string,
  ) => {
    const got = await answer;
    expect(got.status, got.text).toBe(status);
    expect(got.json()).toEqual({ error });
  };

  it("issues a token for client_credentials with private_key_jwt (RFC 7523 §2.2)", async () => {
    const answer = await post({
      grant_type: "client_credentials",
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await assertion(),
      scope: "orders:read",
      resource: AUDIENCE,
    });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers["cache-control"]).toBe("no-store");
    const body = answer.json() as Record<string, unknown>;
    rememberSecret(String(body.access_token));
    expect(body).toMatchObject({ token_type: "Bearer", scope: "orders:read" });
    expect(body.expires_in).toBeGreaterThan(0);
  });

  it("issues a token for the JWT-bearer grant (RFC 7523 §2.1), and refuses a replayed assertion", async () => {
    const value = await assertion();
    const form = {
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion: value,
      scope: "orders:read",
      resource: AUDIENCE,
    };
    const first = await post(form);
    expect(first.status, first.text).toBe(200);
    rememberSecret(String((first.json() as Record<string, unknown>).access_token));
    await expectError(post(form), 400, "invalid_grant");
  });

  it("answers RFC 6749 §5.2 errors", async () => {
    const base = {
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      resource: AUDIENCE,
      scope: "orders:read",
    };
    await expectError(
      post({ ...base, grant_type: "password", client_assertion: "x" }),
      400,
      "unsupported_grant_type",
    );
    await expectError(post({ ...base, client_assertion: "x" }), 400, "invalid_request");
    // RFC 7523 §3.2: a client assertion that is not valid fails client authentication.
    await expectError(
      post({ ...base, grant_type: "client_credentials", client_assertion: "a.b.c" }),
      401,
      "invalid_client",
    );
    await expectError(
      post({
        ...base,
        grant_type: "client_credentials",
        client_assertion: await assertion(),
        scope: "admin:all",
      }),
      400,
      "invalid_scope",
    );
    await expectError(
      post({
        ...base,
        grant_type: "client_credentials",
        client_assertion: await assertion(),
        resource: "https://other.example",
      }),
      400,
      "invalid_target",
    );
    await expectError(
      post({
        ...base,
        grant_type: "client_credentials",
        client_assertion_type: "other",
        client_assertion: "x",
      }),
      401,
      "invalid_client",
    );
    // Without the agent's certificate the client is not authenticated.
    const noCert = http1(t.gh.caPem, `${t.url}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        ...base,
        grant_type: "client_credentials",
        client_assertion: await assertion(),
      }).toString(),
    });
    await expectError(noCert, 401, "invalid_client");
    await expectError(
      post(
        { ...base, grant_type: "client_credentials", client_assertion: await assertion() },
        { headers: { dpop: "x.y.z" } },
      ),
      400,
      "invalid_dpop_proof",
    );
    const json = await http1(t.gh.caPem, `${t.url}/oauth2/token`, {
      method: "POST",
      tls: agent.agentTls,
      body: JSON.stringify({ grant_type: "client_credentials" }),
    });
    expect(json.status).toBe(400);
    expect(json.json()).toEqual({ error: "invalid_request" });
    const twice = await http1(t.gh.caPem, `${t.url}/oauth2/token`, {
      method: "POST",
      tls: agent.agentTls,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&grant_type=client_credentials",
    });
    expect(twice.json()).toEqual({ error: "invalid_request" });
  });
});
