import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jwtBearerAssertion } from "../../src/client/agent-keys.js";
import { AUDIENCE, type Enrolled, enrollAgent } from "../support/flows.js";
import { ISSUER } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { type HttpAnswer, http1, startTestSidecar, type TestSidecar } from "../support/sidecar.js";

/** Two signature challenges a minute per source address; the per-identity limit stays high. */
const LIMITS = { challengePerAddress: 2, challengePerIdentity: 100 };
/** Clients on loopback: every 127.0.0.0/8 address reaches a listener on 127.0.0.1. */
const FORWARDER = "127.0.0.1";

function expectReason(answer: HttpAnswer, status: number, reason: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect((answer.json() as { reason?: string }).reason).toBe(reason);
}

describe("REST and /oauth2/token forward each caller's address to Gatehouse's limits", () => {
  let t: TestSidecar;
  let alice: Enrolled;
  let bob: Enrolled;

  beforeAll(async () => {
    t = await startTestSidecar({
      overrides: { limits: LIMITS, sidecar: { trustedForwarders: [FORWARDER] } as never },
    });
    alice = await enrollAgent(t.gh);
    bob = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());

  /** `POST /v1/challenges` with the agent's certificate, from `localAddress`. */
  const challenge = (agent: Enrolled, localAddress: string, headers = {}) =>
    http1(t.gh.caPem, `${t.url}/v1/challenges`, {
      method: "POST",
      body: JSON.stringify({
        did: agent.did,
        kind: "CHALLENGE_KIND_SIGNATURE",
        scopes: ["orders:read"],
        audience: AUDIENCE,
      }),
      tls: agent.agentTls,
      headers,
      localAddress,
    });

  it("counts a REST caller's challenges under its own address, not the sidecar's", async () => {
    const fromAlice = [];
    for (let i = 0; i < 3; i++) fromAlice.push(await challenge(alice, "127.0.0.2"));
    expect(fromAlice.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expectReason(fromAlice[2] as HttpAnswer, 429, "REASON_RATE_LIMITED");
    // Through the sidecar both reach Gatehouse from the sidecar's own address: had it not
    // forwarded Alice's, Bob would share her full bucket.
    expect((await challenge(bob, "127.0.0.3")).status).toBe(200);
    // A client's own X-Forwarded-For names nothing: 127.0.0.3 is no trusted forwarder.
    const spoofed = await challenge(bob, "127.0.0.3", { "x-forwarded-for": "127.0.0.4" });
    expect(spoofed.status).toBe(200);
    expectReason(await challenge(bob, "127.0.0.3"), 429, "REASON_RATE_LIMITED");
  });

  it("takes the address a trusted forwarder names, and refuses one that names none", async () => {
    const viaForwarder = (address: string) =>
      challenge(alice, FORWARDER, { "x-forwarded-for": `198.51.100.1, ${address}` });
    expect((await viaForwarder("192.0.2.10")).status).toBe(200);
    expect((await viaForwarder("192.0.2.10")).status).toBe(200);
    expectReason(await viaForwarder("192.0.2.10"), 429, "REASON_RATE_LIMITED");
    expect((await viaForwarder("192.0.2.11")).status).toBe(200);
    for (const headers of [{}, { "x-forwarded-for": "not-an-address" }]) {
      const answer = await challenge(alice, FORWARDER, headers);
      expectReason(answer, 401, "REASON_FORWARDED_IDENTITY_INVALID");
    }
  });

  it("refuses /oauth2/token from a trusted forwarder that names no address (invalid_client)", async () => {
    const token = async (localAddress: string, headers = {}) => {
      const assertion = await jwtBearerAssertion(alice.key, {
        did: alice.did,
        audience: ISSUER,
        lifetimeSeconds: 60,
      });
      rememberSecret(assertion);
      const form = {
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertion,
        scope: "orders:read",
        resource: AUDIENCE,
      };
      return http1(t.gh.caPem, `${t.url}/oauth2/token`, {
        method: "POST",
        body: new URLSearchParams(form).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        tls: alice.agentTls,
        localAddress,
      });
    };
    const refused = await token(FORWARDER);
    expect(refused.status, refused.text).toBe(401);
    expect(refused.json()).toEqual({ error: "invalid_client" });
    // The same grant through the forwarder naming its client, or straight from a client.
    for (const answer of [
      await token(FORWARDER, { "x-forwarded-for": "192.0.2.20" }),
      await token("127.0.0.5"),
    ]) {
      expect(answer.status, answer.text).toBe(200);
      rememberSecret(String((answer.json() as { access_token: string }).access_token));
    }
  });
});
