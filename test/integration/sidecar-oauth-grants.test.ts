import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dpopProof, jwtBearerAssertion } from "../../src/client/agent-keys.js";
import { ed25519Thumbprint } from "../../src/crypto/jose/thumbprint.js";
import { AUDIENCE, type Enrolled, enrollAgent } from "../support/flows.js";
import { ISSUER } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import {
  type HttpAnswer,
  type HttpCall,
  http1,
  startTestSidecar,
  type TestSidecar,
} from "../support/sidecar.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const redisUrl = useRedis();
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const NONCE_SECRET = "oauth-grants-test-nonce-secret-0123456789abcdef";

/** The claims of a JWT this test received (its signature is Gatehouse's business). */
function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as Record<
    string,
    unknown
  >;
}

function oauthClient(t: () => TestSidecar, agent: () => Enrolled) {
  const post = (form: Record<string, string>, call: HttpCall = {}) =>
    http1(t().gh.caPem, `${t().url}/oauth2/token`, {
      method: "POST",
      tls: agent().agentTls,
      ...call,
      headers: { "content-type": "application/x-www-form-urlencoded", ...call.headers },
      body: new URLSearchParams(form).toString(),
    });
  const clientCredentials = async (extra: Record<string, string> = {}) => {
    const assertion = await jwtBearerAssertion(agent().key, {
      did: agent().did,
      audience: ISSUER,
      lifetimeSeconds: 60,
    });
    rememberSecret(assertion);
    return {
      grant_type: "client_credentials",
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
      scope: "orders:read orders:write",
      resource: AUDIENCE,
      ...extra,
    };
  };
  const proof = (nonce?: string) =>
    dpopProof(agent().key, {
      htm: "POST",
      htu: `${t().url}/oauth2/token`,
      ...(nonce === undefined ? {} : { nonce }),
    });
  return { post, clientCredentials, proof };
}

function issued(answer: HttpAnswer): Record<string, unknown> {
  expect(answer.status, answer.text).toBe(200);
  const body = answer.json() as Record<string, unknown>;
  rememberSecret(String(body.access_token));
  return body;
}

async function expectError(answer: Promise<HttpAnswer>, status: number, error: string) {
  const got = await answer;
  expect(got.status, got.text).toBe(status);
  expect(got.json()).toEqual({ error });
  expect(got.headers["cache-control"]).toBe("no-store");
  return got;
}

describe.each(STORE_KINDS)("/oauth2/token: DPoP and token exchange (%s store)", (storeKind) => {
  let t: TestSidecar;
  let agent: Enrolled;
  let other: Enrolled;

  beforeAll(async () => {
    t = await startTestSidecar({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });
    agent = await enrollAgent(t.gh);
    other = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());
  const { post, clientCredentials, proof } = oauthClient(
    () => t,
    () => agent,
  );

  it("binds the token to the agent's key with a DPoP header (RFC 9449 §5)", async () => {
    const body = issued(await post(await clientCredentials(), { headers: { dpop: proof() } }));
    expect(body.token_type).toBe("DPoP");
    const cnf = claimsOf(String(body.access_token)).cnf as Record<string, unknown>;
    expect(cnf.jkt).toBe(ed25519Thumbprint(agent.key.publicKey));
  });

  it("refuses replayed, misdirected, foreign-key, oversized and empty DPoP proofs with invalid_dpop_proof", async () => {
    const once = proof();
    issued(await post(await clientCredentials(), { headers: { dpop: once } }));
    await expectError(
      post(await clientCredentials(), { headers: { dpop: once } }),
      400,
      "invalid_dpop_proof",
    );
    const wrongUrl = dpopProof(agent.key, { htm: "POST", htu: `${t.url}/elsewhere` });
    await expectError(
      post(await clientCredentials(), { headers: { dpop: wrongUrl } }),
      400,
      "invalid_dpop_proof",
    );
    // A proof by another agent's key: a token is bound only to the caller's registered key.
    const foreign = dpopProof(other.key, { htm: "POST", htu: `${t.url}/oauth2/token` });
    await expectError(
      post(await clientCredentials(), { headers: { dpop: foreign } }),
      400,
      "invalid_dpop_proof",
    );
    await expectError(
      post(await clientCredentials(), { headers: { dpop: "x".repeat(5000) } }),
      400,
      "invalid_dpop_proof",
    );
    await expectError(
      post(await clientCredentials(), { headers: { dpop: "" } }),
      400,
      "invalid_dpop_proof",
    );
  });

  it("exchanges a token for a narrower one (RFC 8693 §2.1) with issued_token_type", async () => {
    const subject = String(issued(await post(await clientCredentials())).access_token);
    const form = {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
      scope: "orders:read",
      resource: AUDIENCE,
    };
    const narrowed = issued(await post(form));
    expect(narrowed).toMatchObject({
      token_type: "Bearer",
      scope: "orders:read",
      issued_token_type: ACCESS_TOKEN_TYPE,
    });
    // Without `scope`, the subject token's scopes; with `audience` agreeing with `resource`.
    const same = issued(
      await post({
        grant_type: TOKEN_EXCHANGE,
        subject_token: subject,
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience: AUDIENCE,
      }),
    );
    expect(same.scope).toBe("orders:read orders:write");
  });

  it("answers token-exchange errors per RFC 8693 §2.2.2", async () => {
    const subject = String(issued(await post(await clientCredentials())).access_token);
    const base = {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
    };
    await expectError(post({ ...base, scope: "orders:delete" }), 400, "invalid_scope");
    await expectError(post({ ...base, scope: "orders:read  orders:write" }), 400, "invalid_scope");
    await expectError(
      post({ ...base, resource: AUDIENCE, audience: "https://other.example" }),
      400,
      "invalid_target",
    );
    await expectError(post({ ...base, resource: "https://other.example" }), 400, "invalid_target");
    await expectError(post({ ...base, subject_token: "a.b.c" }), 400, "invalid_request");
    await expectError(
      post({ ...base, subject_token_type: "urn:ietf:params:oauth:token-type:id_token" }),
      400,
      "invalid_request",
    );
    await expectError(
      post({ ...base, actor_token: subject, actor_token_type: ACCESS_TOKEN_TYPE }),
      400,
      "invalid_request",
    );
    await expectError(
      post({ ...base, requested_token_type: "urn:ietf:params:oauth:token-type:refresh_token" }),
      400,
      "invalid_request",
    );
    await expectError(post({ ...base, client_assertion: "x" }), 400, "invalid_request");
    const { subject_token: _, ...noSubject } = base;
    await expectError(post(noSubject), 400, "invalid_request");
    const twoResources = `${new URLSearchParams(base).toString()}&resource=a&resource=b`;
    await expectError(
      http1(t.gh.caPem, `${t.url}/oauth2/token`, {
        method: "POST",
        tls: agent.agentTls,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: twoResources,
      }),
      400,
      "invalid_target",
    );
  });

  it("refuses another agent's token, and a client_id that is not the assertion's subject", async () => {
    const subject = String(issued(await post(await clientCredentials())).access_token);
    // The other agent holds A's token and its own certificate: it is not the holder.
    await expectError(
      post(
        {
          grant_type: TOKEN_EXCHANGE,
          subject_token: subject,
          subject_token_type: ACCESS_TOKEN_TYPE,
        },
        { tls: other.agentTls },
      ),
      400,
      "invalid_request",
    );
    // A's assertion from B's certificate, with a forged forwarded-identity header naming A.
    const spoofed = await post(await clientCredentials(), {
      tls: other.agentTls,
      headers: {
        "x-gatehouse-client-cert": encodeURIComponent(agent.agentTls.cert.toString()),
        "x-client-cert": encodeURIComponent(agent.agentTls.cert.toString()),
      },
    });
    expect(spoofed.status, spoofed.text).toBeGreaterThanOrEqual(400);
    expect(spoofed.status).toBeLessThan(500);
    expect(["invalid_grant", "invalid_client"]).toContain(
      (spoofed.json() as { error: string }).error,
    );
    await expectError(
      post(await clientCredentials({ client_id: other.did })),
      401,
      "invalid_client",
    );
  });

  it("refuses an oversized form with 413, never a 500", async () => {
    const answer = await post({ grant_type: "client_credentials", pad: "x".repeat(70_000) });
    expect(answer.status).toBe(413);
    expect(answer.json()).toEqual({ error: "invalid_request" });
  });
});

describe("/oauth2/token with DPoP server nonces (RFC 9449 §8)", () => {
  let t: TestSidecar;
  let agent: Enrolled;

  beforeAll(async () => {
    t = await startTestSidecar({
      overrides: { dpop: { nonces: true, nonceSecret: NONCE_SECRET } } as never,
    });
    agent = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());
  const { post, clientCredentials, proof } = oauthClient(
    () => t,
    () => agent,
  );

  it("answers use_dpop_nonce with a DPoP-Nonce header, then issues with the nonce", async () => {
    const refused = await expectError(
      post(await clientCredentials(), { headers: { dpop: proof() } }),
      400,
      "use_dpop_nonce",
    );
    const nonce = refused.headers["dpop-nonce"];
    expect(typeof nonce).toBe("string");
    const answer = await post(await clientCredentials(), {
      headers: { dpop: proof(String(nonce)) },
    });
    expect(issued(answer).token_type).toBe("DPoP");
    expect(typeof answer.headers["dpop-nonce"]).toBe("string");
  });
});
