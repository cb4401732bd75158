import { sign } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { systemClock } from "../../src/clock.js";
import { createUpstream } from "../../src/sidecar/upstream.js";
import { AUDIENCE, type Enrolled, enrollAgent, grpcClients } from "../support/flows.js";
import { runLegacyClient } from "../support/legacy.js";
import { rememberSecret } from "../support/secrets.js";
import { type HttpAnswer, http1, startTestSidecar, type TestSidecar } from "../support/sidecar.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const redisUrl = useRedis();
const TTL_SECONDS = 5;

interface Issued {
  readonly challenge: string;
  readonly nonce: string;
  readonly expires_at: string;
}

describe.each(STORE_KINDS)("Auth4Agent-style routes (%s store)", (storeKind) => {
  let t: TestSidecar;
  let agent: Enrolled;

  beforeAll(async () => {
    t = await startTestSidecar({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
      overrides: {
        challenges: { ttlSeconds: TTL_SECONDS },
        sidecar: { legacyAuth4agent: true },
      },
    });
    agent = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());

  /** A plain HTTPS client with no certificate, sending the exact JSON an outside client sends. */
  const post = (path: string, body: unknown) =>
    http1(t.gh.caPem, `${t.url}${path}`, { method: "POST", body: JSON.stringify(body) });
  const expectError = (answer: HttpAnswer, status: number, error: string) => {
    expect(answer.status, answer.text).toBe(status);
    expect(answer.json()).toEqual({ error });
  };
  const challengeFor = async (did: string): Promise<Issued> => {
    const answer = await post("/v1/challenge", { did });
    expect(answer.status, answer.text).toBe(200);
    const issued = answer.json() as Issued;
    rememberSecret(issued.challenge, issued.nonce);
    return issued;
  };
  const proofOf = (who: Enrolled, issued: Issued, did = who.did) => {
    const message = `auth4agents-challenge:${issued.challenge}:${issued.nonce}`;
    const signature = sign(null, Buffer.from(message, "utf8"), who.key.privateKey);
    rememberSecret(signature.toString("base64"));
    return {
      type: "Ed25519Signature2020",
      created: new Date().toISOString(),
      proofPurpose: "authentication",
      verificationMethod: `${did}#key-1`,
      challenge: issued.challenge,
      nonce: issued.nonce,
      signature: signature.toString("base64"),
    };
  };
  const tokenRequest = (who: Enrolled, issued: Issued, extra: Record<string, unknown> = {}) => ({
    did: who.did,
    scope: "orders:read",
    audience: AUDIENCE,
    ttl: 300,
    proof: proofOf(who, issued),
    ...extra,
  });

  it("logs in without a client certificate: challenge → signed proof → token → verify", async () => {
    const issued = await challengeFor(agent.did);
    expect(Object.keys(issued).sort()).toEqual(["challenge", "expires_at", "nonce"]);
    expect(Date.parse(issued.expires_at)).toBeGreaterThan(Date.now());
    const answer = await post("/v1/token", tokenRequest(agent, issued));
    expect(answer.status, answer.text).toBe(200);
    const token = answer.json() as Record<string, unknown>;
    rememberSecret(String(token.access_token));
    expect(Object.keys(token).sort()).toEqual(["access_token", "expires_in", "token_type"]);
    expect(token.token_type).toBe("Bearer");
    expect(token.expires_in).toBeGreaterThan(0);
    expect(token.expires_in).toBeLessThanOrEqual(300);

    const verified = await post("/v1/verify", { token: token.access_token });
    expect(verified.status, verified.text).toBe(200);
    const body = verified.json() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["claims", "revoked", "valid", "verified_at"]);
    expect(body).toMatchObject({ valid: true, revoked: false });
    expect(body.claims).toMatchObject({ sub: agent.did, aud: AUDIENCE, scope: "orders:read" });

    // Revoked by its operator: no longer valid, and said so.
    const jti = String((body.claims as Record<string, unknown>).jti);
    const operator = grpcClients(t.gh, agent.operatorTls);
    try {
      await operator.registry.revoke({ target: { case: "tokenId", value: jti }, reason: "test" });
    } finally {
      operator.close();
    }
    const after = (await post("/v1/verify", { token: token.access_token })).json();
    expect(after).toMatchObject({ valid: false, revoked: true, claims: {} });
  });

  it("keeps the challenge single-use: a replay is refused, and so is the right proof after a wrong one", async () => {
    const issued = await challengeFor(agent.did);
    const first = await post("/v1/token", tokenRequest(agent, issued));
    expect(first.status, first.text).toBe(200);
    rememberSecret(String((first.json() as { access_token: string }).access_token));
    expectError(
      await post("/v1/token", tokenRequest(agent, issued)),
      409,
      "challenge already used",
    );

    const next = await challengeFor(agent.did);
    const wrong = { ...proofOf(agent, next), nonce: "0".repeat(64) };
    wrong.signature = proofOf(agent, { ...next, nonce: "0".repeat(64) }).signature;
    expectError(
      await post("/v1/token", tokenRequest(agent, next, { proof: wrong })),
      401,
      "invalid proof signature",
    );
    expectError(await post("/v1/token", tokenRequest(agent, next)), 409, "challenge already used");
  });

  it("binds the challenge to the DID: another agent cannot redeem it, nor sign for it", async () => {
    const other = await enrollAgent(t.gh, {}, agent);
    const issued = await challengeFor(agent.did);
    // Another DID presenting the challenge: it was not issued to that DID.
    const stolen = { ...tokenRequest(other, issued) };
    expectError(await post("/v1/token", stolen), 403, "challenge was not issued to this agent");
    // The right DID, signed with another agent's key.
    const forged = await challengeFor(agent.did);
    const signedByOther = tokenRequest(agent, forged, { proof: proofOf(other, forged, agent.did) });
    expectError(await post("/v1/token", signedByOther), 401, "invalid proof signature");
    // A DID nobody registered gets no challenge.
    const unknown = `did:agent:${agent.domain}:${"0".repeat(32)}`;
    expectError(await post("/v1/challenge", { did: unknown }), 404, "agent not found");
  });

  it("refuses an unknown and an expired challenge", async () => {
    const issued = await challengeFor(agent.did);
    const unknown = { ...issued, challenge: "A".repeat(43) };
    expectError(await post("/v1/token", tokenRequest(agent, unknown)), 401, "unknown challenge");
    await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS + 1) * 1000));
    expectError(await post("/v1/token", tokenRequest(agent, issued)), 401, "challenge expired");
  }, 20_000);

  it("gives a caller without a certificate nothing but the DID proof", async () => {
    // The REST surface still needs a certificate; the DID proof cannot be answered by Submit.
    const rest = await post("/v1/challenges", {
      did: agent.did,
      kind: "CHALLENGE_KIND_SIGNATURE",
      scopes: ["orders:read"],
      audience: AUDIENCE,
    });
    expect(rest.status, rest.text).toBe(401);
    const issued = await http1(t.gh.caPem, `${t.url}/v1/challenges`, {
      method: "POST",
      tls: agent.agentTls,
      body: JSON.stringify({ did: agent.did, kind: "CHALLENGE_KIND_DID_PROOF" }),
    });
    expect(issued.status, issued.text).toBe(200);
    const id = String((issued.json() as { challengeId: string }).challengeId);
    rememberSecret(id);
    const submitted = await http1(t.gh.caPem, `${t.url}/v1/challenges/${id}:submit`, {
      method: "POST",
      tls: agent.agentTls,
      body: JSON.stringify({ signature: { signature: Buffer.alloc(64).toString("base64") } }),
    });
    expect(submitted.status, submitted.text).toBe(400);
    expect(submitted.json()).toMatchObject({ reason: "REASON_CHALLENGE_KIND_MISMATCH" });

    // Straight to Gatehouse as a trusted proxy forwarding a DID claim: no other kind, no other grant.
    const upstream = createUpstream({
      address: t.gh.grpcAddress,
      tls: await t.gh.clientTls({ role: "proxy", name: "legacy-test" }),
      hmacSecret: t.hmacSecret,
      timeoutMs: 5_000,
      clock: systemClock,
    });
    const claim = { didClaim: agent.did, address: "192.0.2.1" };
    const { challenge, token } = GateService.method;
    try {
      const signatureKind = create(challenge.input, {
        did: agent.did,
        kind: ChallengeKind.SIGNATURE,
        scopes: ["orders:read"],
        audience: AUDIENCE,
      });
      await expect(upstream.call(challenge, signatureKind, claim)).rejects.toMatchObject({
        reason: Reason.PERMISSION_DENIED,
      });
      const pass = create(token.input, { grant: { case: "passToken", value: "A".repeat(43) } });
      await expect(upstream.call(token, pass, claim)).rejects.toMatchObject({
        reason: Reason.PERMISSION_DENIED,
      });
      const otherDid = create(challenge.input, {
        did: `did:agent:${agent.domain}:${"1".repeat(32)}`,
        kind: ChallengeKind.DID_PROOF,
      });
      await expect(upstream.call(challenge, otherDid, claim)).rejects.toMatchObject({
        reason: Reason.DID_MISMATCH,
      });
      const withScopes = create(challenge.input, {
        did: agent.did,
        kind: ChallengeKind.DID_PROOF,
        scopes: ["orders:read"],
      });
      await expect(upstream.call(challenge, withScopes, claim)).rejects.toMatchObject({
        reason: Reason.INVALID_ARGUMENT,
        field: "scopes",
      });
      // A malformed claim is no identity at all.
      const malformed = create(challenge.input, { did: agent.did, kind: ChallengeKind.DID_PROOF });
      await expect(
        upstream.call(challenge, malformed, { ...claim, didClaim: "did:web:x" }),
      ).rejects.toMatchObject({ reason: Reason.FORWARDED_IDENTITY_INVALID });
    } finally {
      upstream.close();
    }
  });

  it("answers bad input with a clear 4xx, never a 500", async () => {
    const issued = await challengeFor(agent.did);
    const good = tokenRequest(agent, issued);
    const cases: [unknown, string][] = [
      [{ ...good, did: "did:web:example.com" }, "did is not a did:agent or did:key DID"],
      [{ ...good, did: undefined }, "did is required"],
      [{ ...good, proof: undefined }, "proof must be an object"],
      [
        { ...good, proof: { ...good.proof, type: "JsonWebSignature2020" } },
        "proof.type must be Ed25519Signature2020",
      ],
      [
        { ...good, proof: { ...good.proof, proofPurpose: "assertionMethod" } },
        "proof.proofPurpose must be authentication",
      ],
      [
        { ...good, proof: { ...good.proof, verificationMethod: `${agent.did}#key-2` } },
        "proof.verificationMethod must be the DID's #key-1",
      ],
      [{ ...good, proof: { ...good.proof, created: 5 } }, "proof.created is required"],
      [
        { ...good, proof: { ...good.proof, signature: "not base64" } },
        "proof.signature must be a base64 Ed25519 signature",
      ],
      [
        { ...good, proof: { ...good.proof, signature: Buffer.alloc(32).toString("base64") } },
        "proof.signature must be a base64 Ed25519 signature",
      ],
      [
        { ...good, proof: { ...good.proof, signature: good.proof.signature.replace(/=+$/, "") } },
        "proof.signature must be a base64 Ed25519 signature",
      ],
      [{ ...good, scope: "" }, "scope is required"],
      [{ ...good, scope: [1] }, "scope is required"],
      [{ ...good, audience: undefined }, "audience is required"],
      [{ ...good, ttl: -1 }, "ttl must be a whole number of seconds, at most 86400"],
      [{ ...good, ttl: "long" }, "ttl must be a whole number of seconds, at most 86400"],
      [[good], "the body must be a JSON object"],
    ];
    for (const [body, error] of cases) expectError(await post("/v1/token", body), 400, error);
    // Refused by Gatehouse's own rules: a scope outside the contract's pattern, one outside policy.
    const badScope = await post("/v1/token", { ...good, scope: "orders read!" });
    expect(badScope.status, badScope.text).toBe(400);
    expectError(
      await post("/v1/challenge", { did: 5 }),
      400,
      "did must be a string of at most 256 characters",
    );
    const raw = await http1(t.gh.caPem, `${t.url}/v1/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{did:",
    });
    expectError(raw, 400, "the body is not valid JSON");
    const form = await http1(t.gh.caPem, `${t.url}/v1/challenge`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "did=x",
    });
    expectError(form, 400, "the body must be application/json");
    const big = await post("/v1/challenge", { did: agent.did, pad: "x".repeat(70_000) });
    expect(big.status, big.text).toBe(413);
    expectError(await http1(t.gh.caPem, `${t.url}/v1/token`), 405, "method not allowed");
    const garbage = (await post("/v1/verify", { token: "not.a.token" })).json();
    expect(garbage).toMatchObject({ valid: false, revoked: false, claims: {} });
  });

  it("resolves an agent, and serves its discovery document, JWKS and health", async () => {
    const answer = await http1(t.gh.caPem, `${t.url}/v1/agent/${encodeURIComponent(agent.did)}`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toMatchObject({ did: agent.did, status: "active" });
    expect(JSON.stringify(answer.json())).toContain("publicKeyMultibase");
    const missing = `/v1/agent/did:agent:${agent.domain}:${"0".repeat(32)}`;
    expectError(await http1(t.gh.caPem, `${t.url}${missing}`), 404, "agent not found");
    expectError(
      await http1(t.gh.caPem, `${t.url}/v1/agent/nobody`),
      400,
      "did is not a did:agent or did:key DID",
    );
    expectError(
      await http1(t.gh.caPem, `${t.url}/v1/agent/%E0%A4%A`),
      400,
      "did is not a did:agent or did:key DID",
    );
    const discovery = await http1(t.gh.caPem, `${t.url}/.well-known/auth4agent`);
    expect(discovery.status, discovery.text).toBe(200);
    expect(discovery.json()).toMatchObject({
      token_endpoint: `${t.url}/v1/token`,
      jwks_uri: `${t.url}/.well-known/jwks.json`,
      proof_types_supported: ["Ed25519Signature2020"],
    });
    const jwks = await http1(t.gh.caPem, `${t.url}/.well-known/jwks.json`);
    expect(jwks.status, jwks.text).toBe(200);
    const health = await http1(t.gh.caPem, `${t.url}/health`);
    expect(health.status, health.text).toBe(200);
    expect(health.json()).toEqual({ status: "ok" });
  });

  it("serves the operator routes that map onto the registry, to the operator's certificate only", async () => {
    const path = `${t.url}/api/v1/operators/${agent.domain}`;
    const mine = await http1(t.gh.caPem, path, { tls: agent.operatorTls });
    expect(mine.status, mine.text).toBe(200);
    expect(mine.json()).toMatchObject({ domain: agent.domain, status: "active", verified: true });
    expectError(await http1(t.gh.caPem, path), 401, "an operator client certificate is required");
    const other = await enrollAgent(t.gh);
    const foreign = await http1(t.gh.caPem, path, { tls: other.operatorTls });
    expect(foreign.status, foreign.text).toBe(403);
    const asAgent = await http1(t.gh.caPem, path, { tls: agent.agentTls });
    expect(asAgent.status, asAgent.text).toBe(403);
    const verify = (body: unknown) =>
      http1(t.gh.caPem, `${path}/verify`, {
        method: "POST",
        tls: agent.operatorTls,
        body: JSON.stringify(body),
      });
    expectError(await verify({ method: "ftp" }), 400, "method must be dns or https");
    expectError(
      await http1(t.gh.caPem, `${path}/verify`, { tls: agent.operatorTls }),
      405,
      "method not allowed",
    );
    expectError(
      await http1(t.gh.caPem, path, { method: "DELETE", tls: agent.operatorTls }),
      405,
      "method not allowed",
    );
  });

  it("works for an unchanged Python Auth4Agent client (requests + cryptography), no certificate", async () => {
    const dir = t.gh.dataDir;
    const files = { ca: join(dir, "a4a-ca.pem"), key: join(dir, "a4a-key.pem") };
    await writeFile(files.ca, t.gh.caPem);
    await writeFile(files.key, agent.key.privateKey.export({ format: "pem", type: "pkcs8" }));
    const printed = await runLegacyClient("auth4agent_client.py", [
      "--url",
      t.url,
      "--ca",
      files.ca,
      "--key",
      files.key,
      "--did",
      agent.did,
      "--scope",
      "orders:read",
      "--audience",
      AUDIENCE,
    ]);
    const result = JSON.parse(printed) as { token: { access_token: string }; verify: unknown };
    rememberSecret(result.token.access_token);
    expect(result.verify).toMatchObject({
      valid: true,
      revoked: false,
      claims: { sub: agent.did },
    });
  });
});
