import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, type Enrolled, enrollAgent } from "../support/flows.js";
import {
  aogIteratedHash,
  clientKeyJwt,
  expectDetail,
  runLegacyClient,
  signedCertHeaders,
  solveQuestion,
} from "../support/legacy.js";
import { rememberSecret } from "../support/secrets.js";
import { type HttpCall, http1, startTestSidecar, type TestSidecar } from "../support/sidecar.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const redisUrl = useRedis();
const TTL_SECONDS = 5;
/** The AOG routes on, every AOG login bound to this audience and scope. */
const AOG_ROUTES = {
  legacyAog: true,
  legacyAogAudience: AUDIENCE,
  legacyAogScopes: ["orders:read"],
};

describe.each(STORE_KINDS)("AOG-style routes /challenge and /task (%s store)", (storeKind) => {
  let t: TestSidecar;
  let agent: Enrolled;
  const headerSecret = randomBytes(32).toString("base64");
  rememberSecret(headerSecret);

  beforeAll(async () => {
    t = await startTestSidecar({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
      overrides: {
        challenges: { ttlSeconds: TTL_SECONDS, iteratedHashIterations: 1_000 },
        limits: { challengePerIdentity: 40 },
        sidecar: {
          ...AOG_ROUTES,
          legacyAogHeaderSecret: headerSecret,
        },
      },
    });
    agent = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());

  /** A call with the agent's certificate, unless anonymous (identity from headers only). */
  type Call = HttpCall & { readonly anonymous?: boolean };
  const withIdentity = ({ anonymous, ...call }: Call): HttpCall =>
    anonymous ? call : { tls: agent.agentTls, ...call };
  const get = (query: string, call: Call = {}) =>
    http1(t.gh.caPem, `${t.url}/challenge${query}`, withIdentity(call));
  const post = (body: unknown, call: Call = {}) =>
    http1(t.gh.caPem, `${t.url}/task`, {
      method: "POST",
      body: JSON.stringify(body),
      ...withIdentity(call),
    });
  const legacyChallenge = async (call: HttpCall = {}) => {
    const answer = await get("?challenge_type=legacy", call);
    expect(answer.status, answer.text).toBe(200);
    const body = answer.json() as { nonce: string; seed: string; iterations: number };
    rememberSecret(body.nonce, body.seed);
    return body;
  };
  const legacyTask = (challenge: { nonce: string; seed: string; iterations: number }) => ({
    nonce: challenge.nonce,
    challenge_type: "legacy",
    result_hash: aogIteratedHash(challenge.seed, challenge.iterations),
    runtime_ms: 0,
    client_fingerprint: "sha256:legacy-client",
  });

  it("serves the legacy puzzle over mTLS: h = SHA-256(seed), then `iterations` more rounds", async () => {
    const before = Date.now() / 1000;
    const answer = await get("?challenge_type=legacy");
    expect(answer.status, answer.text).toBe(200);
    const body = answer.json() as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ["challenge_type", "deadline_ts", "issued_at", "iterations", "nonce", "seed"].sort(),
    );
    expect(body).toMatchObject({ challenge_type: "legacy", iterations: 999 });
    expect(body.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(body.issued_at).toBeGreaterThanOrEqual(Math.floor(before));
    expect(body.deadline_ts).toBeGreaterThan(body.issued_at as number);
    const challenge = body as { nonce: string; seed: string; iterations: number };
    rememberSecret(challenge.nonce, challenge.seed);
    const accepted = await post(legacyTask(challenge));
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.json()).toEqual({ status: "accepted", nonce: challenge.nonce });
    // Consumed on the first attempt, across replicas: the same task again is a replay.
    expectDetail(await post(legacyTask(challenge)), 409, "replay detected");
  });

  it("serves a reasoning task as self-contained text, with identity from signed X-Client-Cert headers", async () => {
    for (const name of ["X-Client-Cert-Sig", "X-Client-Cert-Signature"]) {
      const headers = signedCertHeaders(agent.agentTls, headerSecret, name);
      const answer = await get("?challenge_type=reasoning", { anonymous: true, headers });
      expect(answer.status, answer.text).toBe(200);
      const body = answer.json() as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(
        ["challenge_type", "deadline_ts", "issued_at", "nonce", "question", "seed"].sort(),
      );
      const question = String(body.question);
      expect(question).toContain("Answer format:");
      rememberSecret(String(body.nonce), String(body.seed));
      const submitted = await post(
        {
          nonce: body.nonce,
          challenge_type: "reasoning",
          answer: solveQuestion(question),
          runtime_ms: 60,
          client_fingerprint: "fp",
          trace_hash: "abc",
        },
        { anonymous: true, headers },
      );
      expect(submitted.status, submitted.text).toBe(200);
      expect(submitted.json()).toEqual({ status: "accepted", nonce: body.nonce });
    }
  });

  it("defaults to a reasoning challenge, as AOG did", async () => {
    const answer = await get("");
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toMatchObject({ challenge_type: "reasoning" });
    rememberSecret(String((answer.json() as { nonce: string }).nonce));
  });

  it("consumes the challenge on a wrong answer: the right one afterwards is a replay", async () => {
    const challenge = await legacyChallenge();
    const wrong = { ...legacyTask(challenge), result_hash: "0".repeat(64) };
    expectDetail(await post(wrong), 400, "incorrect result hash");
    expectDetail(await post(legacyTask(challenge)), 409, "replay detected");
  });

  it("refuses a reasoning answer for a legacy challenge (the stored kind decides)", async () => {
    const challenge = await legacyChallenge();
    const claimed = { ...legacyTask(challenge), challenge_type: "reasoning", answer: "42" };
    expectDetail(await post(claimed), 400, "challenge_type does not match the challenge");
  });

  it("refuses an unknown or malformed nonce", async () => {
    const base = { challenge_type: "legacy", result_hash: "0".repeat(64), runtime_ms: 0 };
    const task = { ...base, client_fingerprint: "fp" };
    expectDetail(await post({ ...task, nonce: "A".repeat(43) }), 400, "invalid or unknown nonce");
    expectDetail(await post({ ...task, nonce: "short" }), 400, "invalid or unknown nonce");
  });

  it("binds the challenge to the client certificate: another agent's submission is refused", async () => {
    const other = await enrollAgent(t.gh, {}, agent);
    const challenge = await legacyChallenge();
    expectDetail(
      await post(legacyTask(challenge), { tls: other.agentTls }),
      403,
      "client identity mismatch",
    );
  });

  it("refuses forged, unsigned or missing identity headers, and certificates from another CA", async () => {
    const headers = signedCertHeaders(agent.agentTls, headerSecret);
    const forged = {
      ...headers,
      "X-Client-Cert-Sig":
        signedCertHeaders(agent.agentTls, "x".repeat(32))["X-Client-Cert-Sig"] ?? "",
    };
    expectDetail(
      await get("", { anonymous: true, headers: forged }),
      403,
      "invalid client cert header signature",
    );
    const unsigned = { "X-Client-Cert": headers["X-Client-Cert"] ?? "" };
    expectDetail(
      await get("", { anonymous: true, headers: unsigned }),
      403,
      "unsigned client cert header not accepted",
    );
    const notBase64 = { ...headers, "X-Client-Cert-Sig": "not base64!" };
    expectDetail(
      await get("", { anonymous: true, headers: notBase64 }),
      403,
      "invalid client cert header signature",
    );
    expectDetail(await get("", { anonymous: true }), 403, "client certificate required");
    // A header swapped onto another agent's certificate no longer matches its signature.
    const other = await enrollAgent(t.gh, {}, agent);
    const swapped = {
      ...headers,
      "X-Client-Cert": encodeURIComponent(other.agentTls.cert.toString()),
    };
    expectDetail(
      await get("", { anonymous: true, headers: swapped }),
      403,
      "invalid client cert header signature",
    );
    // Correctly signed, but not issued by Gatehouse's CA: Gatehouse refuses the identity.
    const foreign = await t.gh.foreignTls({ role: "agent", did: agent.did });
    const foreignHeaders = signedCertHeaders(foreign, headerSecret);
    expectDetail(
      await get("", { anonymous: true, headers: foreignHeaders }),
      403,
      "client certificate not accepted",
    );
    // The same on /task: a forged identity never reaches Gatehouse.
    expectDetail(
      await post({ nonce: "x" }, { anonymous: true, headers: forged }),
      403,
      "invalid client cert header signature",
    );
  });

  it("refuses a submission past the deadline with 408", async () => {
    const challenge = await legacyChallenge();
    await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS + 1) * 1000));
    expectDetail(await post(legacyTask(challenge)), 408, "submission past deadline");
  }, 20_000);

  it("refuses an unsigned autonomy_attestation by default, and the attempt is spent", async () => {
    const challenge = await legacyChallenge();
    const autonomy = { operation_time: 10, autonomous_actions: ["a"], decision_chain: ["d"] };
    expectDetail(
      await post({ ...legacyTask(challenge), autonomy_attestation: autonomy }),
      403,
      "unsigned autonomy_attestation not accepted: send a signed attestation through Gatehouse",
    );
    expectDetail(await post(legacyTask(challenge)), 409, "replay detected");
  });

  it("verifies the attestation JWT against the client certificate's key (sub, iat)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = clientKeyJwt(agent.agentTls, { sub: agent.did, iat: now });
    const first = await legacyChallenge();
    const accepted = await post({ ...legacyTask(first), attestation: good });
    expect(accepted.status, accepted.text).toBe(200);
    const other = await enrollAgent(t.gh, {}, agent);
    const refusals = [
      clientKeyJwt(other.agentTls, { sub: agent.did, iat: now }), // another key
      clientKeyJwt(agent.agentTls, { sub: other.did, iat: now }), // another subject
      clientKeyJwt(agent.agentTls, { sub: agent.did, iat: now - 3_600 }), // stale
      clientKeyJwt(agent.agentTls, { sub: agent.did }), // no iat
      `${good.split(".").slice(0, 2).join(".")}.`, // no signature
      "not-a-jwt",
    ];
    for (const attestation of refusals) {
      const challenge = await legacyChallenge();
      expectDetail(
        await post({ ...legacyTask(challenge), attestation }),
        403,
        "attestation verification failed",
      );
    }
  });

  it("answers bad input with a clear 4xx, never a 500", async () => {
    expectDetail(
      await get("?challenge_type=quantum"),
      400,
      "challenge_type must be reasoning or legacy",
    );
    expectDetail(
      await get("?challenge_type=legacy&challenge_type=reasoning"),
      400,
      "challenge_type must be reasoning or legacy",
    );
    expectDetail(await post("not an object"), 400, "the body must be a JSON object");
    const raw = await http1(t.gh.caPem, `${t.url}/task`, {
      method: "POST",
      tls: agent.agentTls,
      headers: { "content-type": "application/json" },
      body: "{nonce:",
    });
    expectDetail(raw, 400, "the body is not valid JSON");
    const challenge = await legacyChallenge();
    const task = legacyTask(challenge);
    expectDetail(
      await post({ ...task, runtime_ms: "fast" }),
      400,
      "runtime_ms must be a non-negative integer",
    );
    expectDetail(
      await post({ ...task, runtime_ms: -1 }),
      400,
      "runtime_ms must be a non-negative integer",
    );
    expectDetail(
      await post({ ...task, client_fingerprint: undefined }),
      400,
      "client_fingerprint is required",
    );
    expectDetail(
      await post({ ...task, result_hash: undefined }),
      400,
      "result_hash required for legacy challenge",
    );
    expectDetail(
      await post({ ...task, challenge_type: "reasoning", result_hash: undefined }),
      400,
      "answer required for reasoning challenge",
    );
    expectDetail(
      await post({ ...task, challenge_type: "other" }),
      400,
      "challenge_type must be reasoning or legacy",
    );
    expectDetail(
      await post({ ...task, nonce: 7 }),
      400,
      "nonce must be a string of at most 128 characters",
    );
    expectDetail(await post({ ...task, result_hash: "zz" }), 400, "invalid request");
    expectDetail(await post({ ...task, runtime_ms: 10_000_000 }), 400, "invalid request");
    const big = await post({ ...task, trace_hash: "x".repeat(70_000) });
    expect(big.status, big.text).toBe(413);
    const wrongMethod = await http1(t.gh.caPem, `${t.url}/task`, { tls: agent.agentTls });
    expectDetail(wrongMethod, 405, "method not allowed");
  });

  it("answers 429 with Retry-After once the agent asks for too many challenges", async () => {
    const busy = await enrollAgent(t.gh, {}, agent);
    let answer = await get("?challenge_type=legacy", { tls: busy.agentTls });
    for (let i = 0; i < 45 && answer.status === 200; i++) {
      rememberSecret(String((answer.json() as { nonce: string }).nonce));
      answer = await get("?challenge_type=legacy", { tls: busy.agentTls });
    }
    expectDetail(answer, 429, "rate limit exceeded");
    expect(Number(answer.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("works for an unchanged Python AOG client (requests), over mTLS and over signed headers", async () => {
    const dir = t.gh.dataDir;
    const files = {
      ca: join(dir, "aog-ca.pem"),
      cert: join(dir, "aog-cert.pem"),
      key: join(dir, "aog-key.pem"),
    };
    await writeFile(files.ca, t.gh.caPem);
    await writeFile(files.cert, agent.agentTls.cert);
    await writeFile(files.key, agent.agentTls.key);
    const mtls = await runLegacyClient("aog_client.py", [
      "--url",
      t.url,
      "--ca",
      files.ca,
      "--cert",
      files.cert,
      "--key",
      files.key,
      "--type",
      "legacy",
    ]);
    expect(mtls).toContain('"status": "accepted"');
    const signed = await runLegacyClient("aog_client.py", [
      "--url",
      t.url,
      "--ca",
      files.ca,
      "--cert",
      files.cert,
      "--header-secret",
      headerSecret,
      "--type",
      "legacy",
    ]);
    expect(signed).toContain('"status": "accepted"');
  });
});

describe("AOG-style routes with unsigned autonomy attestations opted in (weaker)", () => {
  let t: TestSidecar;
  let agent: Enrolled;

  beforeAll(async () => {
    t = await startTestSidecar({
      overrides: {
        challenges: { iteratedHashIterations: 1_000 },
        sidecar: {
          ...AOG_ROUTES,
          legacyAogUnsignedAutonomy: true,
        },
      },
    });
    agent = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());

  const task = async (autonomy: unknown) => {
    const issued = await http1(t.gh.caPem, `${t.url}/challenge?challenge_type=legacy`, {
      tls: agent.agentTls,
    });
    const challenge = issued.json() as { nonce: string; seed: string; iterations: number };
    rememberSecret(challenge.nonce, challenge.seed);
    return http1(t.gh.caPem, `${t.url}/task`, {
      method: "POST",
      tls: agent.agentTls,
      body: JSON.stringify({
        nonce: challenge.nonce,
        challenge_type: "legacy",
        result_hash: aogIteratedHash(challenge.seed, challenge.iterations),
        runtime_ms: 0,
        client_fingerprint: "fp",
        autonomy_attestation: autonomy,
      }),
    });
  };

  it("accepts a plausible one and refuses an implausible one", async () => {
    const plausible = {
      operation_time: 12.5,
      autonomous_actions: ["fetch"],
      decision_chain: ["d1"],
    };
    const accepted = await task(plausible);
    expect(accepted.status, accepted.text).toBe(200);
    const implausible = { ...plausible, autonomous_actions: [] };
    expectDetail(await task(implausible), 403, "autonomy attestation validation failed");
  });
});
