import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import { autonomyAttestation, generateAgentKey } from "../../src/client/agent-keys.js";
import { createManualClock, type ManualClock } from "../../src/clock.js";
import { ConfigError, type ConfigOverrides, loadConfig } from "../../src/config/index.js";
import { createCertificateAuthority } from "../../src/pki/certificate-authority.js";
import { issueCertificate } from "../../src/pki/issue-certificate.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import {
  AUDIENCE,
  type Clients,
  type Enrolled,
  enrollAgent,
  grpcClients,
  SCOPES,
  signedChallenge,
} from "../support/flows.js";
import { ISSUER, startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";

const PLATFORM_ISSUER = "https://attestation.test";
const PLATFORM_KID = "platform-key-1";
/** A small-order Ed25519 key (the identity) in the issuer's set: it must verify nothing. */
const WEAK_PLATFORM_KEY = Buffer.from(`01${"00".repeat(31)}`, "hex");
const WEAK_PLATFORM_JWK = {
  kty: "OKP",
  crv: "Ed25519",
  x: WEAK_PLATFORM_KEY.toString("base64url"),
  kid: "weak-key",
  alg: "EdDSA",
  use: "sig",
};
/** The same bytes, another spelling: the last character with a non-zero pad bit (RFC 4648 §3.5). */
const respelled = (jws: string) =>
  `${jws.slice(0, -1)}${String.fromCharCode(jws.charCodeAt(jws.length - 1) + 1)}`;
const DECISION_CHAIN = createHash("sha256").update("plan → act → observe").digest("base64url");
/** What the tests report unless a test is about the runtime: plausible for every check. */
const RUNTIME_MS = 20;

interface AutonomyPolicyInit {
  requireAttestation?: boolean;
  minOperationSeconds?: number;
  minAutonomousActions?: number;
  requirePlatformAttestation?: boolean;
}

/** The operator replaces the agent's policy (RegistryService.UpdateAgentPolicy). */
async function setAutonomyPolicy(gh: TestGatehouse, agent: Enrolled, autonomy: AutonomyPolicyInit) {
  const operator = grpcClients(gh, agent.operatorTls);
  try {
    await operator.registry.updateAgentPolicy({
      did: agent.did,
      policy: {
        scopes: SCOPES,
        audiences: [AUDIENCE],
        autonomy: {
          requireAttestation: autonomy.requireAttestation ?? false,
          minContinuousOperation: { seconds: BigInt(autonomy.minOperationSeconds ?? 0) },
          minAutonomousActions: BigInt(autonomy.minAutonomousActions ?? 0),
          requirePlatformAttestation: autonomy.requirePlatformAttestation ?? false,
        },
      },
    });
  } finally {
    operator.close();
  }
}

interface SubmitExtras {
  autonomyAttestation?: string;
  platformAttestation?: string;
  runtimeMs?: number;
}

function submit(
  clients: Clients,
  challengeId: string,
  signature: Uint8Array,
  extras: SubmitExtras,
) {
  return clients.gate.submit({
    challengeId,
    answer: { case: "signature", value: { signature } },
    runtimeMs: RUNTIME_MS,
    ...extras,
  });
}

/** An ES256 attestation issuer: its key pair and its public JWKS. */
interface LocalIssuer {
  readonly privateKey: CryptoKey;
  readonly jwks: { keys: JWK[] };
}

async function localIssuer(): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: PLATFORM_KID, alg: "ES256", use: "sig" };
  return { privateKey, jwks: { keys: [jwk] } };
}

interface PlatformTokenInit {
  nonce: string;
  nowMs: number;
  issuer?: string;
  audience?: string;
  expiresInSeconds?: number;
}

async function platformToken(key: CryptoKey, init: PlatformTokenInit): Promise<string> {
  const now = Math.floor(init.nowMs / 1000);
  const token = await new SignJWT({ nonce: init.nonce })
    .setProtectedHeader({ alg: "ES256", kid: PLATFORM_KID, typ: "JWT" })
    .setIssuer(init.issuer ?? PLATFORM_ISSUER)
    .setAudience(init.audience ?? ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + (init.expiresInSeconds ?? 300))
    .sign(key);
  rememberSecret(token);
  return token;
}

describe("autonomy attestation, platform attestation (JWKS file) and runtime bounds", () => {
  let gh: TestGatehouse;
  let clock: ManualClock;
  let dir: string;
  let issuer: LocalIssuer;
  let autonomous: Enrolled;
  let other: Enrolled;
  let plain: Enrolled;
  let attested: Enrolled;
  let clients: Clients;
  let plainClients: Clients;
  let attestedClients: Clients;

  beforeAll(async () => {
    clock = createManualClock(Date.now());
    dir = await mkdtemp(join(tmpdir(), "gatehouse-attestation-"));
    issuer = await localIssuer();
    const jwksFile = join(dir, "platform-jwks.json");
    await writeFile(jwksFile, JSON.stringify({ keys: [...issuer.jwks.keys, WEAK_PLATFORM_JWK] }));
    gh = await startTestGatehouse({
      clock,
      overrides: {
        attestation: { platformIssuer: PLATFORM_ISSUER, platformJwksFile: jwksFile },
        runtime: { toleranceMs: 1_000, signatureMinMs: 10, signatureMaxMs: 20_000 },
      },
    });
    [autonomous, other, plain, attested] = await Promise.all([
      enrollAgent(gh),
      enrollAgent(gh),
      enrollAgent(gh),
      enrollAgent(gh),
    ]);
    await setAutonomyPolicy(gh, autonomous, {
      requireAttestation: true,
      minOperationSeconds: 3600,
      minAutonomousActions: 10,
    });
    await setAutonomyPolicy(gh, attested, { requirePlatformAttestation: true });
    clients = grpcClients(gh, autonomous.agentTls);
    plainClients = grpcClients(gh, plain.agentTls);
    attestedClients = grpcClients(gh, attested.agentTls);
  });
  afterAll(async () => {
    for (const c of [clients, plainClients, attestedClients]) c?.close();
    await gh?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A valid attestation by `agent` for `challengeId`, with any field replaced. */
  async function attestation(
    agent: Enrolled,
    challengeId: string,
    overrides: Partial<Parameters<typeof autonomyAttestation>[1]> = {},
    key = agent.key,
  ): Promise<string> {
    const token = await autonomyAttestation(key, {
      did: agent.did,
      challengeId,
      operationSeconds: 7200,
      autonomousActions: 42,
      decisionChain: DECISION_CHAIN,
      iat: Math.floor(clock.now() / 1000),
      ...overrides,
    });
    rememberSecret(token);
    return token;
  }

  /** A valid attestation by `agent`, signed by `key`, with extra header parameters. */
  async function headerVariant(
    agent: Enrolled,
    challengeId: string,
    key: KeyObject,
    header: Record<string, unknown>,
  ): Promise<string> {
    const token = await new SignJWT({
      nonce: challengeId,
      operation_seconds: 7200,
      autonomous_actions: 42,
      decision_chain: DECISION_CHAIN,
    })
      .setProtectedHeader({ alg: "EdDSA", typ: "gatehouse-autonomy+jwt", ...header })
      .setIssuer(agent.did)
      .setSubject(agent.did)
      .setIssuedAt(Math.floor(clock.now() / 1000))
      .sign(key);
    rememberSecret(token);
    return token;
  }

  describe("autonomy attestation", () => {
    it("passes a valid attestation when the policy requires one, and issues a token", async () => {
      const challenge = await clients.gate.challenge({
        did: autonomous.did,
        kind: ChallengeKind.SIGNATURE,
        scopes: ["orders:read"],
        audience: AUDIENCE,
      });
      expect(challenge.requirements?.autonomyAttestation).toBe(true);
      expect(challenge.requirements?.platformAttestation).toBe(false);

      const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
      const autonomyAttestation = await attestation(autonomous, challengeId);
      const { passToken: pass } = await submit(clients, challengeId, signature, {
        autonomyAttestation,
      });
      const token = await clients.gate.token({ grant: { case: "passToken", value: pass } });
      rememberSecret(pass, token.accessToken);
      expect(token.tokenType).toBe("Bearer");
    });

    it("refuses a missing attestation, and the challenge is spent", async () => {
      const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
      await expectReason(submit(clients, challengeId, signature, {}), Reason.ATTESTATION_REQUIRED);
      const autonomyAttestation = await attestation(autonomous, challengeId);
      await expectReason(
        submit(clients, challengeId, signature, { autonomyAttestation }),
        Reason.CHALLENGE_ALREADY_USED,
      );
    });

    it("refuses an attestation whose signature is re-spelled (RFC 7515 §2)", async () => {
      const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
      const autonomyAttestation = respelled(await attestation(autonomous, challengeId));
      rememberSecret(autonomyAttestation);
      await expectReason(
        submit(clients, challengeId, signature, { autonomyAttestation }),
        Reason.ATTESTATION_INVALID,
      );
    });

    it("refuses an attestation signed by another agent's key", async () => {
      const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
      const forged = await attestation(autonomous, challengeId, {}, other.key);
      await expectReason(
        submit(clients, challengeId, signature, { autonomyAttestation: forged }),
        Reason.ATTESTATION_INVALID,
      );
      const autonomyAttestation = await attestation(autonomous, challengeId);
      await expectReason(
        submit(clients, challengeId, signature, { autonomyAttestation }),
        Reason.CHALLENGE_ALREADY_USED,
      );
    });

    it("refuses an unsigned attestation (alg none)", async () => {
      const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const now = Math.floor(clock.now() / 1000);
      const unsigned = `${encode({ alg: "none", typ: "gatehouse-autonomy+jwt" })}.${encode({
        iss: autonomous.did,
        sub: autonomous.did,
        nonce: challengeId,
        iat: now,
        operation_seconds: 7200,
        autonomous_actions: 42,
        decision_chain: DECISION_CHAIN,
      })}.`;
      await expectReason(
        submit(clients, challengeId, signature, { autonomyAttestation: unsigned }),
        Reason.ATTESTATION_INVALID,
      );
    });

    it("refuses an attestation that brings its own key in the header (jwk)", async () => {
      const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
      const intruder = generateAgentKey();
      const token = await headerVariant(autonomous, challengeId, intruder.privateKey, {
        jwk: await exportJWK(createPublicKey(intruder.privateKey)),
      });
      await expectReason(
        submit(clients, challengeId, signature, { autonomyAttestation: token }),
        Reason.ATTESTATION_INVALID,
      );
    });

    it("refuses key references, extensions and a wrong typ even when signed by the agent", async () => {
      const ownJwk = await exportJWK(createPublicKey(autonomous.key.privateKey));
      const headers: Record<string, unknown>[] = [
        { jwk: ownJwk },
        { jku: "https://keys.evil.test/jwks.json" },
        { x5u: "https://keys.evil.test/cert.pem" },
        { kid: other.did },
        { b64: true, crit: ["b64"] },
        { typ: "JWT" },
      ];
      for (const header of headers) {
        const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
        const token = await headerVariant(
          autonomous,
          challengeId,
          autonomous.key.privateKey,
          header,
        );
        await expectReason(
          submit(clients, challengeId, signature, { autonomyAttestation: token }),
          Reason.ATTESTATION_INVALID,
        );
      }
      // The control: `kid` naming the agent itself is accepted.
      const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
      const token = await headerVariant(autonomous, challengeId, autonomous.key.privateKey, {
        kid: autonomous.did,
      });
      rememberSecret(
        (await submit(clients, challengeId, signature, { autonomyAttestation: token })).passToken,
      );
    });

    it("refuses an attestation bound to another challenge", async () => {
      const first = await signedChallenge(clients.gate, autonomous);
      const second = await signedChallenge(clients.gate, autonomous);
      const forFirst = await attestation(autonomous, first.challengeId);
      await expectReason(
        submit(clients, second.challengeId, second.signature, { autonomyAttestation: forFirst }),
        Reason.ATTESTATION_INVALID,
      );
    });

    it("refuses an attestation naming another DID, even signed by the right key", async () => {
      const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
      const token = await attestation(other, challengeId, {}, autonomous.key);
      await expectReason(
        submit(clients, challengeId, signature, { autonomyAttestation: token }),
        Reason.ATTESTATION_INVALID,
      );
    });

    it("refuses a stale or future iat (manual clock)", async () => {
      const stale = await signedChallenge(clients.gate, autonomous);
      const old = await attestation(autonomous, stale.challengeId, {
        iat: Math.floor(clock.now() / 1000) - 120,
      });
      await expectReason(
        submit(clients, stale.challengeId, stale.signature, { autonomyAttestation: old }),
        Reason.ATTESTATION_INVALID,
      );

      // Made at issuance, presented 45 s later: still fresh (within the challenge's lifetime).
      const late = await signedChallenge(clients.gate, autonomous);
      const atIssue = await attestation(autonomous, late.challengeId);
      clock.advance(45_000);
      const { passToken: pass } = await submit(clients, late.challengeId, late.signature, {
        autonomyAttestation: atIssue,
      });
      rememberSecret(pass);

      const future = await signedChallenge(clients.gate, autonomous);
      const ahead = await attestation(autonomous, future.challengeId, {
        iat: Math.floor(clock.now() / 1000) + 120,
      });
      await expectReason(
        submit(clients, future.challengeId, future.signature, { autonomyAttestation: ahead }),
        Reason.ATTESTATION_INVALID,
      );
    });

    it("refuses a valid attestation below the policy's thresholds", async () => {
      for (const below of [{ operationSeconds: 3599 }, { autonomousActions: 9 }]) {
        const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
        const token = await attestation(autonomous, challengeId, below);
        await expectReason(
          submit(clients, challengeId, signature, { autonomyAttestation: token }),
          Reason.ATTESTATION_BELOW_POLICY,
        );
      }
    });

    it("refuses malformed claims (decision chain, negative counts)", async () => {
      for (const bad of [
        { decisionChain: "not-a-sha256" },
        { decisionChain: `${DECISION_CHAIN.slice(0, 42)}B` }, // non-canonical last character
        { autonomousActions: -1 },
        { operationSeconds: 1.5 },
      ]) {
        const { challengeId, signature } = await signedChallenge(clients.gate, autonomous);
        const token = await attestation(autonomous, challengeId, bad);
        await expectReason(
          submit(clients, challengeId, signature, { autonomyAttestation: token }),
          Reason.ATTESTATION_INVALID,
        );
      }
    });

    it("verifies an attestation the policy does not require: a bad one is refused", async () => {
      const without = await signedChallenge(plainClients.gate, plain);
      const { passToken: pass } = await submit(
        plainClients,
        without.challengeId,
        without.signature,
        {},
      );
      rememberSecret(pass);

      const bad = await signedChallenge(plainClients.gate, plain);
      const forged = await attestation(plain, bad.challengeId, {}, other.key);
      await expectReason(
        submit(plainClients, bad.challengeId, bad.signature, { autonomyAttestation: forged }),
        Reason.ATTESTATION_INVALID,
      );
    });
  });

  describe("platform attestation (JWKS file)", () => {
    it("passes a token of the configured issuer bound to the challenge", async () => {
      const { challengeId, signature } = await signedChallenge(attestedClients.gate, attested);
      const platformAttestation = await platformToken(issuer.privateKey, {
        nonce: challengeId,
        nowMs: clock.now(),
      });
      const { passToken: pass } = await submit(attestedClients, challengeId, signature, {
        platformAttestation,
      });
      const token = await attestedClients.gate.token({ grant: { case: "passToken", value: pass } });
      rememberSecret(pass, token.accessToken);
      expect(token.audience).toBe(AUDIENCE);
    });

    it("refuses a missing token when the policy requires one", async () => {
      const { challengeId, signature } = await signedChallenge(attestedClients.gate, attested);
      await expectReason(
        submit(attestedClients, challengeId, signature, {}),
        Reason.PLATFORM_ATTESTATION_INVALID,
      );
    });

    it("refuses wrong nonce, expired, wrong issuer, wrong audience and unknown key", async () => {
      const stranger = await localIssuer();
      const cases: [string, (challengeId: string) => Promise<string>][] = [
        ["wrong nonce", () => platformToken(issuer.privateKey, { nonce: "x", nowMs: clock.now() })],
        [
          "expired",
          (nonce) =>
            platformToken(issuer.privateKey, {
              nonce,
              nowMs: clock.now() - 600_000,
              expiresInSeconds: 60,
            }),
        ],
        [
          "wrong issuer",
          (nonce) =>
            platformToken(issuer.privateKey, {
              nonce,
              nowMs: clock.now(),
              issuer: "https://evil.test",
            }),
        ],
        [
          "wrong audience",
          (nonce) =>
            platformToken(issuer.privateKey, {
              nonce,
              nowMs: clock.now(),
              audience: "https://elsewhere.test",
            }),
        ],
        // Same kid, another key: the key set decides, not the token.
        [
          "unknown key",
          (nonce) => platformToken(stranger.privateKey, { nonce, nowMs: clock.now() }),
        ],
      ];
      for (const [name, make] of cases) {
        const { challengeId, signature } = await signedChallenge(attestedClients.gate, attested);
        const platformAttestation = await make(challengeId);
        const error = await expectReason(
          submit(attestedClients, challengeId, signature, { platformAttestation }),
          Reason.PLATFORM_ATTESTATION_INVALID,
        );
        expect(error.message, name).not.toContain(platformAttestation.split(".")[2]);
        const good = await platformToken(issuer.privateKey, {
          nonce: challengeId,
          nowMs: clock.now(),
        });
        await expectReason(
          submit(attestedClients, challengeId, signature, { platformAttestation: good }),
          Reason.CHALLENGE_ALREADY_USED,
        );
      }
    });

    it("refuses a re-spelled token and a forgery under a small-order key of the set", async () => {
      const now = Math.floor(clock.now() / 1000);
      const forged = (nonce: string) => {
        const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
        const claims = { iss: PLATFORM_ISSUER, aud: ISSUER, iat: now, exp: now + 300, nonce };
        const sig = Buffer.concat([WEAK_PLATFORM_KEY, Buffer.alloc(32)]).toString("base64url");
        return `${b64({ alg: "EdDSA", kid: "weak-key", typ: "JWT" })}.${b64(claims)}.${sig}`;
      };
      const makers = [
        async (nonce: string) =>
          respelled(await platformToken(issuer.privateKey, { nonce, nowMs: clock.now() })),
        async (nonce: string) => forged(nonce),
      ];
      for (const make of makers) {
        const { challengeId, signature } = await signedChallenge(attestedClients.gate, attested);
        const platformAttestation = await make(challengeId);
        rememberSecret(platformAttestation);
        await expectReason(
          submit(attestedClients, challengeId, signature, { platformAttestation }),
          Reason.PLATFORM_ATTESTATION_INVALID,
        );
      }
    });

    it("verifies a token the policy does not require: a bad one is refused", async () => {
      const { challengeId, signature } = await signedChallenge(plainClients.gate, plain);
      const platformAttestation = await platformToken(issuer.privateKey, {
        nonce: challengeId,
        nowMs: clock.now(),
        issuer: "https://evil.test",
      });
      await expectReason(
        submit(plainClients, challengeId, signature, { platformAttestation }),
        Reason.PLATFORM_ATTESTATION_INVALID,
      );
    });
  });

  describe("runtime bounds", () => {
    it("refuses a runtime longer than the server measured, and the challenge is spent", async () => {
      const { challengeId, signature } = await signedChallenge(plainClients.gate, plain);
      clock.advance(2_000);
      await expectReason(
        submit(plainClients, challengeId, signature, { runtimeMs: 3_500 }),
        Reason.RUNTIME_IMPLAUSIBLE,
      );
      await expectReason(
        submit(plainClients, challengeId, signature, { runtimeMs: 1_500 }),
        Reason.CHALLENGE_ALREADY_USED,
      );
    });

    it("refuses a runtime below the kind's minimum, including 0 (not reported)", async () => {
      for (const runtimeMs of [0, 9]) {
        const { challengeId, signature } = await signedChallenge(plainClients.gate, plain);
        await expectReason(
          submit(plainClients, challengeId, signature, { runtimeMs }),
          Reason.RUNTIME_IMPLAUSIBLE,
        );
      }
    });

    it("refuses a runtime above the kind's maximum even when that much time passed", async () => {
      const { challengeId, signature } = await signedChallenge(plainClients.gate, plain);
      clock.advance(30_000);
      await expectReason(
        submit(plainClients, challengeId, signature, { runtimeMs: 25_000 }),
        Reason.RUNTIME_IMPLAUSIBLE,
      );
    });

    it("accepts a plausible runtime (within the elapsed time plus the tolerance)", async () => {
      const { challengeId, signature } = await signedChallenge(plainClients.gate, plain);
      clock.advance(2_000);
      const { passToken: pass } = await submit(plainClients, challengeId, signature, {
        runtimeMs: 2_900,
      });
      rememberSecret(pass);
    });
  });
});

describe("platform attestation (JWKS URL over https)", () => {
  let gh: TestGatehouse;
  let dir: string;
  let server: Server;
  let issuer: LocalIssuer;
  let agent: Enrolled;
  let clients: Clients;
  let fetches = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gatehouse-attestation-url-"));
    issuer = await localIssuer();
    const ca = await createCertificateAuthority({
      commonName: "attestation test CA",
      validityDays: 1,
    });
    const tls = await issueCertificate({
      ca,
      commonName: "127.0.0.1",
      usage: "server",
      ipAddresses: ["127.0.0.1"],
      validityDays: 1,
    });
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
      fetches += 1;
      res.setHeader("content-type", "application/jwk-set+json");
      res.end(JSON.stringify(issuer.jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const caFile = join(dir, "jwks-ca.pem");
    await writeFile(caFile, ca.certPem);
    gh = await startTestGatehouse({
      overrides: {
        attestation: {
          platformIssuer: PLATFORM_ISSUER,
          platformJwksUrl: `https://127.0.0.1:${port}/jwks.json`,
          platformJwksCaFile: caFile,
        },
      },
    });
    agent = await enrollAgent(gh);
    await setAutonomyPolicy(gh, agent, { requirePlatformAttestation: true });
    clients = grpcClients(gh, agent.agentTls);
  });
  afterAll(async () => {
    clients?.close();
    await gh?.dispose();
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("fetches the issuer's key set and passes a token bound to the challenge", async () => {
    const { challengeId, signature } = await signedChallenge(clients.gate, agent);
    const platformAttestation = await platformToken(issuer.privateKey, {
      nonce: challengeId,
      nowMs: Date.now(),
    });
    const { passToken: pass } = await submit(clients, challengeId, signature, {
      platformAttestation,
    });
    rememberSecret(pass);
    expect(fetches).toBe(1);
  });

  it("refuses a token signed by a key outside the fetched set", async () => {
    const stranger = await localIssuer();
    const { challengeId, signature } = await signedChallenge(clients.gate, agent);
    const platformAttestation = await platformToken(stranger.privateKey, {
      nonce: challengeId,
      nowMs: Date.now(),
    });
    await expectReason(
      submit(clients, challengeId, signature, { platformAttestation }),
      Reason.PLATFORM_ATTESTATION_INVALID,
    );
  });
});

describe("platform attestation without a configured issuer", () => {
  const env = useGatehouse();

  beforeAll(async () => {
    await setAutonomyPolicy(env.gh, env.agent, { requirePlatformAttestation: true });
  });

  it("refuses every Submit of an agent whose policy requires one (fail closed)", async () => {
    const issuer = await localIssuer();
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    const platformAttestation = await platformToken(issuer.privateKey, {
      nonce: challengeId,
      nowMs: Date.now(),
    });
    await expectReason(
      submit(env.clients, challengeId, signature, { platformAttestation }),
      Reason.PLATFORM_ATTESTATION_INVALID,
    );
  });
});

describe("attestation and runtime configuration", () => {
  const problemsOf = (overrides: ConfigOverrides): readonly string[] => {
    try {
      loadConfig({ mode: "dev", env: {}, overrides });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it("needs exactly one key source for an issuer, and an issuer for the other settings", () => {
    expect(problemsOf({ attestation: { platformIssuer: PLATFORM_ISSUER } })).toEqual([
      expect.stringContaining("needs exactly one of"),
    ]);
    expect(problemsOf({ attestation: { platformJwksFile: "/tmp/jwks.json" } })).toEqual([
      expect.stringContaining("requires attestation.platform_issuer"),
    ]);
    expect(
      problemsOf({ attestation: { platformIssuer: "x", platformJwksUrl: "http://a.test/jwks" } }),
    ).toContainEqual(expect.stringContaining("must be an https URL"));
  });

  it("refuses a kind's minimum runtime above its maximum", () => {
    expect(problemsOf({ runtime: { reasoningMinMs: 5_000, reasoningMaxMs: 1_000 } })).toEqual([
      expect.stringContaining("runtime.reasoningMinMs"),
    ]);
  });
});
