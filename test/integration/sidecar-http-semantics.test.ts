import { connect } from "node:tls";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jwtBearerAssertion } from "../../src/client/agent-keys.js";
import { AUDIENCE, type Enrolled, enrollAgent } from "../support/flows.js";
import { ISSUER } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import * as support from "../support/sidecar.js";

type HttpAnswer = support.HttpAnswer;
const { expectRefusal, http1 } = support;

/**
 * HTTP semantics of the sidecar over real sockets: 405 with `Allow` on every route (RFC 9110
 * §15.5.6), 415 for REST content that is not identity-coded JSON (§8.4, §15.5.16), the OAuth
 * token endpoint's client-authentication errors (RFC 6749 §5.2, RFC 7523 §3.2).
 */
const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const FORM = "application/x-www-form-urlencoded";

function expect405(answer: HttpAnswer, allow: string): void {
  expectRefusal(answer, 405, "REASON_HTTP_METHOD_NOT_ALLOWED");
  expect(answer.headers.allow).toBe(allow);
}

describe("sidecar HTTP semantics", () => {
  let t: support.TestSidecar;
  let agent: Enrolled;
  const call = (path: string, options?: support.HttpCall) =>
    http1(t.gh.caPem, `${t.url}${path}`, options);

  beforeAll(async () => {
    t = await support.startTestSidecar({
      overrides: {
        sidecar: {
          legacyAuth4agent: true,
          legacyAog: true,
          legacyAogAudience: AUDIENCE,
          legacyAogScopes: ["orders:read"],
          routes: [
            {
              host: "*",
              path_prefix: "/orders",
              resource: "https://app.test/orders",
              audience: AUDIENCE,
              scopes: ["orders:read"],
            },
          ],
        } as never,
      },
    });
    agent = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());

  /** One raw HTTP/1.1 request over TLS with exactly these header lines. */
  const raw = (head: string, body = ""): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const { port } = new URL(t.url);
      const socket = connect({
        host: "127.0.0.1",
        port: Number(port),
        ca: t.gh.caPem,
        cert: agent.verifierTls.cert,
        key: agent.verifierTls.key,
        servername: "localhost",
      });
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("error", reject);
      socket.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const [headText = "", bodyText = ""] = text.split("\r\n\r\n");
        const [statusLine = "", ...lines] = headText.split("\r\n");
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const at = line.indexOf(":");
          headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
        }
        resolve({
          status: Number(statusLine.split(" ")[1]),
          headers,
          text: bodyText,
          json: () => JSON.parse(bodyText),
        });
      });
      socket.write(
        `${head}\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    });

  describe("405 carries Allow (RFC 9110 §15.5.6)", () => {
    it("on the public documents, health and readiness: GET and HEAD only", async () => {
      for (const path of [
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/.well-known/gatehouse",
        "/openapi.json",
        "/.well-known/oauth-protected-resource/orders",
      ]) {
        for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
          expect405(await call(path, { method }), "GET, HEAD");
        }
        const read = await call(path);
        expect(read.status, `${path} ${read.text}`).toBe(200);
        const head = await call(path, { method: "HEAD" });
        expect(head.status, path).toBe(200);
        expect(head.text).toBe("");
      }
    });

    it("DELETE /readyz is refused, not answered with the JWK Set", async () => {
      const answer = await call("/readyz", { method: "DELETE" });
      expect405(answer, "GET, HEAD");
      expect(answer.text).not.toContain("keys");
    });

    it("on the OAuth token endpoint (POST) and REST routes (their bindings' methods)", async () => {
      expect405(await call("/oauth2/token"), "POST");
      expect405(await call("/v1/tokens:verify", { tls: agent.verifierTls }), "POST");
      // Without a certificate too: the method is the path's, not the caller's.
      expect405(await call("/v1/tokens:verify", { method: "PUT" }), "POST");
      // A path several bindings share lists each of their methods.
      const did = encodeURIComponent(agent.did);
      const agentPath = await call(`/v1/agents/${did}`, {
        method: "POST",
        tls: agent.operatorTls,
      });
      expectRefusal(agentPath, 405, "REASON_HTTP_METHOD_NOT_ALLOWED");
      expect(String(agentPath.headers.allow).split(", ").sort()).toEqual(["DELETE", "GET"]);
    });

    it("on the legacy routes, in their own error shape", async () => {
      const challenge = await call("/v1/challenge");
      expect(challenge.status).toBe(405);
      expect(challenge.headers.allow).toBe("POST");
      expect(challenge.json()).toEqual({ error: "method not allowed" });
      const health = await call("/health", { method: "POST", body: "{}" });
      expect(health.status).toBe(405);
      expect(health.headers.allow).toBe("GET");
      const operator = await call("/api/v1/operators/example.com", {
        method: "DELETE",
        tls: agent.operatorTls,
      });
      expect(operator.status).toBe(405);
      expect(operator.headers.allow).toBe("GET");
      const aog = await call("/task");
      expect(aog.status).toBe(405);
      expect(aog.headers.allow).toBe("POST");
      expect(aog.json()).toEqual({ detail: "method not allowed" });
    });
  });

  describe("REST takes identity-coded JSON only (RFC 9110 §8.4, §15.5.16)", () => {
    const verify = (headers: Record<string, string>, body: string | Buffer = "{}") =>
      raw(
        `POST /v1/tokens:verify HTTP/1.1\r\n${Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}`)
          .join("\r\n")}`.replace(/\r\n$/, ""),
        body.toString("latin1"),
      );
    const body = JSON.stringify({ token: "a.b.c", audience: AUDIENCE });

    it("answers application/json (with parameters) as before", async () => {
      for (const type of ["application/json", "Application/JSON; charset=utf-8"]) {
        const answer = await verify({ "Content-Type": type }, body);
        expect(answer.status, answer.text).toBe(200);
        expect(answer.json()).toMatchObject({ allowed: false, reason: "REASON_TOKEN_MALFORMED" });
      }
      const identity = await verify(
        { "Content-Type": "application/json", "Content-Encoding": "identity" },
        body,
      );
      expect(identity.status, identity.text).toBe(200);
    });

    it("refuses another media type, or none, for a body with 415", async () => {
      for (const headers of [
        { "Content-Type": "text/plain" },
        { "Content-Type": "application/x-www-form-urlencoded" },
        {},
      ]) {
        const answer = await verify(headers, body);
        expectRefusal(answer, 415, "REASON_INVALID_ARGUMENT");
        expect(answer.json()).toMatchObject({ message: "request body must be application/json" });
      }
    });

    it("refuses a content coding with 415 and Accept-Encoding: identity", async () => {
      for (const payload of [body, gzipSync(body)]) {
        const answer = await verify(
          { "Content-Type": "application/json", "Content-Encoding": "gzip" },
          payload,
        );
        expectRefusal(answer, 415, "REASON_INVALID_ARGUMENT");
        expect(answer.headers["accept-encoding"]).toBe("identity");
      }
    });

    it("takes an empty body without a Content-Type (the message's defaults)", async () => {
      const answer = await raw("POST /v1/tokens:verify HTTP/1.1");
      expectRefusal(answer, 400, "REASON_INVALID_ARGUMENT"); // token and audience are required
    });

    it("asks for a certificate before it looks at the body", async () => {
      const anonymous = await call("/v1/tokens:verify", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body,
      });
      expectRefusal(anonymous, 401, "REASON_UNAUTHENTICATED");
    });

    it("refuses a __proto__ member as it refuses any unknown member", async () => {
      const tls = agent.verifierTls;
      const post = (text: string) => call("/v1/tokens:verify", { method: "POST", body: text, tls });
      const unknown = await post(JSON.stringify({ token: "a.b.c", audience: AUDIENCE, zzz: 1 }));
      expectRefusal(unknown, 400, "REASON_INVALID_ARGUMENT");
      for (const text of [
        `{"__proto__":{"zzz":1},"token":"a.b.c","audience":"${AUDIENCE}"}`,
        `{"__proto__":{},"token":"a.b.c","audience":"${AUDIENCE}"}`,
        `{"token":"a.b.c","audience":"${AUDIENCE}","amount":{"__proto__":{"units":"1"}}}`,
      ]) {
        const answer = await post(text);
        expectRefusal(answer, 400, "REASON_INVALID_ARGUMENT");
        expect(answer.json()).toEqual(unknown.json());
      }
    });
  });

  describe("/oauth2/token client authentication (RFC 6749 §5.2, RFC 7523 §3.2)", () => {
    const post = (form: Record<string, string>, options: support.HttpCall = {}) =>
      call("/oauth2/token", {
        method: "POST",
        tls: agent.agentTls,
        ...options,
        headers: { "content-type": FORM, ...options.headers },
        body: new URLSearchParams(form).toString(),
      });
    const expectError = (answer: HttpAnswer, status: number, error: string) => {
      expect(answer.status, answer.text).toBe(status);
      expect(answer.json()).toEqual({ error });
      expect(answer.headers["cache-control"]).toBe("no-store");
    };
    const clientCredentials = (clientAssertion: string, extra: Record<string, string> = {}) => ({
      grant_type: "client_credentials",
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: clientAssertion,
      ...extra,
    });
    const assertion = async (audience = ISSUER) => {
      const value = await jwtBearerAssertion(agent.key, {
        did: agent.did,
        audience,
        lifetimeSeconds: 60,
      });
      rememberSecret(value);
      return value;
    };
    const withScope = { scope: "orders:read", resource: AUDIENCE };

    it("answers a client assertion that is no JWT invalid_client, with or without a scope", async () => {
      for (const extra of [withScope, {}, { scope: "orders:read" }, { scope: "a  b" }]) {
        const answer = await post(clientCredentials("abc", extra));
        expectError(answer, 401, "invalid_client");
        expect(answer.headers["www-authenticate"]).toBe('Bearer error="invalid_client"');
      }
      expectError(await post(clientCredentials("a.b.c", withScope)), 401, "invalid_client");
    });

    it("answers a well-formed client assertion Gatehouse refuses invalid_client", async () => {
      // Signed by the agent for another audience: the signature holds, the claims do not.
      const other = await post(clientCredentials(await assertion("https://other.test"), withScope));
      expectError(other, 401, "invalid_client");
      expect(other.headers["www-authenticate"]).toBe('Bearer error="invalid_client"');
      // A replayed one.
      const once = clientCredentials(await assertion(), withScope);
      const first = await post(once);
      expect(first.status, first.text).toBe(200);
      rememberSecret(String((first.json() as Record<string, unknown>).access_token));
      expectError(await post(once), 401, "invalid_client");
      // An authenticated client still hears about its scope.
      const scope = await post(
        clientCredentials(await assertion(), { ...withScope, scope: "x:y" }),
      );
      expectError(scope, 400, "invalid_scope");
    });

    it("keeps the JWT-bearer grant's assertion failures invalid_grant (RFC 7523 §3.1)", async () => {
      const grant = { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", ...withScope };
      expectError(await post({ ...grant, assertion: "abc" }), 400, "invalid_grant");
      const value = await assertion("https://other.test");
      expectError(await post({ ...grant, assertion: value }), 400, "invalid_grant");
    });

    it("challenges HTTP Basic in its own scheme", async () => {
      const basic = `Basic ${Buffer.from("foo:bar").toString("base64")}`;
      const answer = await post(
        { grant_type: "client_credentials" },
        { headers: { authorization: basic } },
      );
      expectError(answer, 401, "invalid_client");
      expect(answer.headers["www-authenticate"]).toMatch(/^Basic realm="[^"]+"/);
      // Even beside a valid assertion: one authentication method per request (RFC 6749 §2.3).
      const both = await post(clientCredentials(await assertion(), withScope), {
        headers: { authorization: basic },
      });
      expectError(both, 401, "invalid_client");
      expect(both.headers["www-authenticate"]).toMatch(/^Basic realm=/);
      // Another scheme is answered with the Bearer challenge.
      const bearer = await post(
        { grant_type: "client_credentials" },
        { headers: { authorization: "Bearer x" } },
      );
      expectError(bearer, 401, "invalid_client");
      expect(bearer.headers["www-authenticate"]).toBe('Bearer error="invalid_client"');
    });
  });
});
