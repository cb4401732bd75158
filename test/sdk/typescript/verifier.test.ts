import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentKey,
  dpopProof,
  loginWithChallenge,
} from "../../../clients/typescript/src/agent/index.js";
import {
  createConnectClient,
  createMtlsTransport,
  Reason,
  RegistryService,
} from "../../../clients/typescript/src/index.js";
import {
  createJwksKeySet,
  createVerifier,
  httpJwksSource,
  type JwksSource,
  rpcJwksSource,
  type Verifier,
} from "../../../clients/typescript/src/verifier/index.js";
import { createManualClock } from "../../../src/clock.js";
import { AUDIENCE, recordingGate } from "../../support/flows.js";
import { ISSUER } from "../../support/gatehouse.js";
import { http1 } from "../../support/sidecar.js";
import { type SdkEnvironment, startSdkEnvironment } from "./support/environment.js";

const API = "https://api.example.com/orders/1";

/** The token with another `kid` in its header (its signature no longer matters: kid comes first). */
function withKid(token: string, kid: string): string {
  const [header = "", ...rest] = token.split(".");
  const parsed = JSON.parse(Buffer.from(header, "base64url").toString());
  return [Buffer.from(JSON.stringify({ ...parsed, kid })).toString("base64url"), ...rest].join(".");
}

describe("TypeScript SDK verifier against Gatehouse's key set", () => {
  let env: SdkEnvironment;
  let bound: string;
  let bearer: string;
  let key: AgentKey;

  const proofFor = (token: string, url = API, method = "GET") =>
    dpopProof(key, { htm: method, htu: url, accessToken: token });

  beforeAll(async () => {
    env = await startSdkEnvironment();
    key = env.agent.key;
    const login = (dpop: boolean) =>
      loginWithChallenge(recordingGate(env.gate), {
        key,
        did: env.agent.did,
        scopes: ["orders:read"],
        audience: AUDIENCE,
        ...(dpop && { dpop: { key, tokenEndpoint: env.tokenEndpoint } }),
      });
    bound = (await login(true)).accessToken;
    bearer = (await login(false)).accessToken;
  });
  afterAll(async () => {
    await env?.close();
  });

  const offlineVerifier = (source: JwksSource): Verifier =>
    createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: createJwksKeySet({ source }),
    });

  it("verifies a DPoP-bound token offline from the sidecar's jwks_uri, once per proof", async () => {
    const verifier = offlineVerifier(httpJwksSource(env.jwksUri, { ca: env.t.gh.caPem }));
    const proof = proofFor(bound);
    const request = {
      token: bound,
      dpopProof: proof,
      method: "GET",
      url: API,
      requiredScopes: ["orders:read"],
    };
    const allowed = await verifier.verify(request);
    expect(allowed).toMatchObject({
      allowed: true,
      token: { agentDid: env.agent.did, operatorDomain: env.agent.domain, source: "offline" },
    });
    expect(await verifier.verify(request)).toEqual({
      allowed: false,
      reason: Reason.DPOP_REPLAYED,
    });
  });

  it("refuses offline with the server's reasons, in the server's order", async () => {
    const verifier = offlineVerifier(httpJwksSource(env.jwksUri, { ca: env.t.gh.caPem }));
    const refusal = async (request: Parameters<Verifier["verify"]>[0]) => {
      const outcome = await verifier.verify(request);
      return outcome.allowed ? "allowed" : Reason[outcome.reason];
    };
    expect(await refusal({ token: bound, method: "GET", url: API })).toBe("TOKEN_BOUND_TO_KEY");
    expect(
      await refusal({
        token: bound,
        dpopProof: proofFor(bound, API, "POST"),
        method: "GET",
        url: API,
      }),
    ).toBe("DPOP_INVALID");
    expect(await refusal({ token: bearer, audience: "https://other.example.com" })).toBe(
      "TOKEN_AUDIENCE_MISMATCH",
    );
    expect(await refusal({ token: bearer, requiredScopes: ["orders:write"] })).toBe(
      "INSUFFICIENT_SCOPE",
    );
    const [h, p, s = ""] = bearer.split(".");
    const flipped = `${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;
    expect(await refusal({ token: `${h}.${p}.${flipped}` })).toBe("TOKEN_BAD_SIGNATURE");
    expect(await refusal({ token: "not-a-jwt" })).toBe("TOKEN_MALFORMED");
    const otherIssuer = createVerifier({
      issuer: "https://elsewhere.example.com",
      audience: AUDIENCE,
      keys: createJwksKeySet({ source: httpJwksSource(env.jwksUri, { ca: env.t.gh.caPem }) }),
    });
    expect(await otherIssuer.verify({ token: bearer })).toEqual({
      allowed: false,
      reason: Reason.TOKEN_ISSUER_MISMATCH,
    });
  });

  it("verifies offline from the GetJwks RPC as well", async () => {
    const outcome = await offlineVerifier(rpcJwksSource(env.verify)).verify({ token: bearer });
    expect(outcome).toMatchObject({ allowed: true, token: { source: "offline" } });
  });

  it("honours the key set's cache hints from both sources", async () => {
    const sidecarAnswer = await http1(env.t.gh.caPem, env.jwksUri);
    const maxAge = Number(
      /max-age=(\d+)/.exec(String(sidecarAnswer.headers["cache-control"]))?.[1],
    );
    expect(maxAge).toBeGreaterThan(0);
    const fromHttp = await httpJwksSource(env.jwksUri, { ca: env.t.gh.caPem })();
    expect(fromHttp.maxAgeSeconds).toBe(maxAge);
    const fromRpc = await rpcJwksSource(env.verify)();
    expect(fromRpc.maxAgeSeconds).toBeGreaterThan(0);
    expect(fromRpc.keys.map((k) => k.kid).sort()).toEqual(fromHttp.keys.map((k) => k.kid).sort());

    const clock = createManualClock(Date.now());
    const keys = createJwksKeySet({
      source: httpJwksSource(env.jwksUri, { ca: env.t.gh.caPem }),
      clock,
    });
    await keys.ensureFresh();
    clock.advance((maxAge - 1) * 1000);
    await keys.ensureFresh();
    expect(keys.loads).toBe(1);
    clock.advance(2_000);
    await keys.ensureFresh();
    expect(keys.loads).toBe(2);
  });

  it("reloads the key set for an unknown kid, at most once per interval", async () => {
    const clock = createManualClock(Date.now());
    const real = httpJwksSource(env.jwksUri, { ca: env.t.gh.caPem });
    let calls = 0;
    // The first load predates the signing key (as a set cached before a rotation would).
    const source: JwksSource = async () => {
      calls += 1;
      return calls === 1 ? { keys: [], maxAgeSeconds: 300 } : real();
    };
    const keys = createJwksKeySet({ source, clock, minRefreshIntervalMs: 30_000 });
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys, clock });
    await keys.ensureFresh();
    clock.advance(30_000);
    expect(await verifier.verify({ token: bearer })).toMatchObject({ allowed: true });
    expect(keys.loads).toBe(2);
    // Made-up kids: the first within the interval reloads nothing more.
    for (const kid of ["made-up-1", "made-up-2", "made-up-3"]) {
      expect(await verifier.verify({ token: withKid(bearer, kid) })).toEqual({
        allowed: false,
        reason: Reason.TOKEN_KID_UNKNOWN,
      });
    }
    expect(keys.loads).toBe(2);
    clock.advance(30_000);
    await verifier.verify({ token: withKid(bearer, "made-up-4") });
    expect(keys.loads).toBe(3);
  });

  it("asks Gatehouse online: as primary, and as fallback when the key set cannot be loaded", async () => {
    const online = createVerifier({ issuer: ISSUER, audience: AUDIENCE, online: env.verify });
    const proof = proofFor(bound);
    expect(
      await online.verify({ token: bound, dpopProof: proof, method: "GET", url: API }),
    ).toMatchObject({ allowed: true, token: { agentDid: env.agent.did, source: "online" } });
    expect(await online.verify({ token: bound, method: "GET", url: API })).toEqual({
      allowed: false,
      reason: Reason.TOKEN_BOUND_TO_KEY,
    });
    const unreachable: JwksSource = async () => {
      throw new Error("connection refused");
    };
    const fallback = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: createJwksKeySet({ source: unreachable }),
      online: env.verify,
    });
    expect(await fallback.verify({ token: bearer })).toMatchObject({
      allowed: true,
      token: { source: "online" },
    });
    const offlineOnly = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: createJwksKeySet({ source: unreachable }),
    });
    expect(await offlineOnly.verify({ token: bearer })).toEqual({
      allowed: false,
      reason: Reason.UNAVAILABLE,
    });
  });

  it("sees a revocation only online (offline checks what the token itself proves)", async () => {
    const login = await loginWithChallenge(recordingGate(env.gate), {
      key,
      did: env.agent.did,
      scopes: ["orders:read"],
      audience: AUDIENCE,
    });
    const tokenId = String(
      JSON.parse(Buffer.from(login.accessToken.split(".")[1] ?? "", "base64url").toString()).jti,
    );
    const registry = createConnectClient(
      RegistryService,
      createMtlsTransport(env.t.gh.connectUrl, env.agent.operatorTls),
    );
    await registry.revoke({ target: { case: "tokenId", value: tokenId } });
    const online = createVerifier({ issuer: ISSUER, audience: AUDIENCE, online: env.verify });
    expect(await online.verify({ token: login.accessToken })).toEqual({
      allowed: false,
      reason: Reason.TOKEN_REVOKED,
    });
    const offline = offlineVerifier(rpcJwksSource(env.verify));
    expect(await offline.verify({ token: login.accessToken })).toMatchObject({ allowed: true });
  });
});
