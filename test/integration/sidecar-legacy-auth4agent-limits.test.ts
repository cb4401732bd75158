import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind, GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import {
  FORWARDED_HEADERS,
  type ForwardedFields,
  forwardedMac,
} from "../../src/identity/forwarded.js";
import { LIVE_DID_PROOFS } from "../../src/services/gate/abuse/live-did-proofs.js";
import { expectReason } from "../support/errors.js";
import { AUDIENCE, type Enrolled, enrollAgent } from "../support/flows.js";
import {
  aogIteratedHash,
  auth4agentLogin,
  expectAuth4AgentRateLimited,
} from "../support/legacy.js";
import { rememberSecret } from "../support/secrets.js";
import { type HttpAnswer, http1, startTestSidecar, type TestSidecar } from "../support/sidecar.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const redisUrl = useRedis();

/**
 * Limits low enough to reach: 10 DID-proof challenges a minute per (claimed DID, address), more
 * than the 8 live ones an address may hold for one DID; AOG's legacy puzzle 2 a minute per
 * address, Challenge and Submit.
 */
const LIMITS = {
  challengePerIdentity: 10,
  kinds: { iterated_hash: { challengePerAddress: 2, submitPerAddress: 2 } },
};

/** Distinct clients on loopback: every 127.0.0.0/8 address reaches a listener on 127.0.0.1. */
const from = (n: number) => `127.0.0.${n}`;

describe.each(STORE_KINDS)(
  "legacy routes count limits per client address (%s store)",
  (storeKind) => {
    let t: TestSidecar;

    beforeAll(async () => {
      t = await startTestSidecar({
        storeKind,
        ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
        overrides: {
          // A long lifetime: the bound's window, which the 257 challenges below must fall in.
          challenges: { ttlSeconds: 600, iteratedHashIterations: 1_000 },
          limits: LIMITS,
          sidecar: {
            legacyAuth4agent: true,
            legacyAog: true,
            legacyAogAudience: AUDIENCE,
            legacyAogScopes: ["orders:read"],
          },
        },
      });
    });
    afterAll(() => t?.stop());

    /** An Auth4Agent client without a certificate, connecting from `localAddress`. */
    const post = (localAddress: string, path: string, body: unknown, headers = {}) =>
      http1(t.gh.caPem, `${t.url}${path}`, {
        method: "POST",
        body: JSON.stringify(body),
        headers,
        localAddress,
      });
    const expectRateLimited = expectAuth4AgentRateLimited;
    /** Challenge → Ed25519 proof → token, all from `localAddress`. */
    const logIn = (agent: Enrolled, localAddress: string) =>
      auth4agentLogin((path, body) => post(localAddress, path, body), agent, AUDIENCE);

    it("a stranger flooding /v1/challenge for an agent from one address does not stop it logging in from another", async () => {
      const agent = await enrollAgent(t.gh);
      // The stranger also claims the agent's address in X-Forwarded-For: from a peer that is not
      // a trusted forwarder, the header is ignored.
      const spoof = { "x-forwarded-for": from(3) };
      const flood: HttpAnswer[] = [];
      for (let i = 0; i < LIVE_DID_PROOFS.perDidAndAddress + 4; i++) {
        flood.push(await post(from(2), "/v1/challenge", { did: agent.did }, spoof));
      }
      expect(flood.slice(0, LIVE_DID_PROOFS.perDidAndAddress).map((a) => a.status)).toEqual(
        new Array(LIVE_DID_PROOFS.perDidAndAddress).fill(200),
      );
      for (const answer of flood.slice(LIVE_DID_PROOFS.perDidAndAddress)) expectRateLimited(answer);
      for (const answer of flood.slice(0, LIVE_DID_PROOFS.perDidAndAddress)) {
        const { challenge, nonce } = answer.json() as { challenge: string; nonce: string };
        rememberSecret(challenge, nonce);
      }
      await logIn(agent, from(3));
      // The stranger's address stays refused.
      expectRateLimited(await post(from(2), "/v1/challenge", { did: agent.did }));
    });

    it(`bounds the live DID-proof challenges of one DID: ${LIVE_DID_PROOFS.perDid} in all, ${LIVE_DID_PROOFS.perDidAndAddress} from one address`, async () => {
      const agent = await enrollAgent(t.gh);
      const { perDid, perDidAndAddress } = LIVE_DID_PROOFS;
      const addresses = perDid / perDidAndAddress; // 32 addresses fill the DID's bound
      for (let a = 0; a < addresses; a++) {
        const answers = await Promise.all(
          Array.from({ length: perDidAndAddress }, () =>
            post(from(100 + a), "/v1/challenge", { did: agent.did }),
          ),
        );
        for (const answer of answers) {
          expect(answer.status, answer.text).toBe(200);
          const { challenge, nonce } = answer.json() as { challenge: string; nonce: string };
          rememberSecret(challenge, nonce);
        }
      }
      // Full: a new address is refused before anything is stored. Another DID is unaffected.
      expectRateLimited(await post(from(200), "/v1/challenge", { did: agent.did }));
      await logIn(await enrollAgent(t.gh), from(200));
    }, 60_000);

    it("counts AOG's /challenge and /task per client address, not per sidecar", async () => {
      const [b, c] = [await enrollAgent(t.gh), await enrollAgent(t.gh)];
      const aog = (agent: Enrolled, localAddress: string, path: string, body?: unknown) =>
        http1(t.gh.caPem, `${t.url}${path}`, {
          tls: agent.agentTls,
          localAddress,
          ...(body === undefined ? {} : { method: "POST", body: JSON.stringify(body) }),
        });
      const task = (challenge: { nonce: string; seed: string; iterations: number }) => ({
        nonce: challenge.nonce,
        challenge_type: "legacy",
        result_hash: aogIteratedHash(challenge.seed, challenge.iterations),
        runtime_ms: 0,
        client_fingerprint: "sha256:legacy-client",
      });
      const challenges = [];
      for (let i = 0; i < 2; i++) {
        const answer = await aog(b, from(50), "/challenge?challenge_type=legacy");
        expect(answer.status, answer.text).toBe(200);
        const body = answer.json() as { nonce: string; seed: string; iterations: number };
        rememberSecret(body.nonce, body.seed);
        challenges.push(body);
      }
      const third = await aog(b, from(50), "/challenge?challenge_type=legacy");
      expect(third.status, third.text).toBe(429);
      for (const challenge of challenges) {
        const accepted = await aog(b, from(50), "/task", task(challenge));
        expect(accepted.status, accepted.text).toBe(200);
      }
      const [first] = challenges as [(typeof challenges)[number]];
      const overSubmit = await aog(b, from(50), "/task", { ...task(first), nonce: "A".repeat(43) });
      expect(overSubmit.status, overSubmit.text).toBe(429);
      // Another client, another address: its own buckets, full.
      const other = await aog(c, from(51), "/challenge?challenge_type=legacy");
      expect(other.status, other.text).toBe(200);
      const body = other.json() as { nonce: string; seed: string; iterations: number };
      rememberSecret(body.nonce, body.seed);
      const done = await aog(c, from(51), "/task", task(body));
      expect(done.status, done.text).toBe(200);
    });

    describe("the forwarded address under the proxy MAC", () => {
      let agent: Enrolled;
      let proxyTls: ClientTls;
      const CHALLENGE = "/gatehouse.v1.GateService/Challenge";
      const TOKEN = "/gatehouse.v1.GateService/Token";

      beforeAll(async () => {
        agent = await enrollAgent(t.gh);
        proxyTls = await t.gh.clientTls({ role: "proxy", name: "mac-test" });
      });

      /** The forwarded metadata for `fields`, MACed over `signed` (default: the same fields). */
      const forwarded = (fields: Omit<ForwardedFields, "at" | "authority">, signed = {}) => {
        const at = String(Math.floor(Date.now() / 1000));
        const base = { ...fields, at, authority: t.gh.grpcAddress };
        return {
          [FORWARDED_HEADERS[fields.kind]]: fields.value,
          ...(fields.address === undefined ? {} : { [FORWARDED_HEADERS.address]: fields.address }),
          [FORWARDED_HEADERS.at]: at,
          [FORWARDED_HEADERS.mac]: forwardedMac(t.hmacSecret, { ...base, ...signed }),
        };
      };

      /** Challenge straight to Gatehouse as the trusted proxy, with exactly `metadata`. */
      const challengeWith = async (metadata: Record<string, string | string[]>) => {
        const add: grpc.Interceptor = (options, nextCall) =>
          new grpc.InterceptingCall(nextCall(options), {
            start(sent, listener, next) {
              for (const [name, value] of Object.entries(metadata)) {
                for (const one of [value].flat()) sent.add(name, one);
              }
              next(sent, listener);
            },
          });
        const credentials = grpc.credentials.createSsl(proxyTls.ca, proxyTls.key, proxyTls.cert);
        const channel = new grpc.Client(t.gh.grpcAddress, credentials, { interceptors: [add] });
        const gate = createGrpcClient(GateService, {
          address: t.gh.grpcAddress,
          tls: proxyTls,
          channel,
        });
        try {
          return await gate.challenge({ did: agent.did, kind: ChallengeKind.DID_PROOF });
        } finally {
          channel.close();
        }
      };

      const claim = (address?: string) =>
        ({
          kind: "did",
          value: agent.did,
          target: CHALLENGE,
          ...(address ? { address } : {}),
        }) as const;

      it("accepts a DID claim with its client address under the v2 MAC", async () => {
        const issued = await challengeWith(forwarded(claim("192.0.2.10")));
        expect(issued.challengeId).not.toBe("");
        rememberSecret(issued.challengeId);
      });

      it("refuses a forged, missing, repeated, malformed or replayed address", async () => {
        const invalid = Reason.FORWARDED_IDENTITY_INVALID;
        // Forged: the address changed after the proxy MACed another one.
        const good = forwarded(claim("192.0.2.10"));
        await expectReason(
          challengeWith({ ...good, [FORWARDED_HEADERS.address]: "192.0.2.11" }),
          invalid,
        );
        // Dropped from a v2 request: the MAC no longer matches the v1 string either.
        const { [FORWARDED_HEADERS.address]: _dropped, ...withoutAddress } = good;
        await expectReason(challengeWith(withoutAddress), invalid);
        // Added to a v1 request, and a v1 claim with no address at all (MAC valid).
        await expectReason(
          challengeWith({ ...forwarded(claim()), [FORWARDED_HEADERS.address]: "192.0.2.10" }),
          invalid,
        );
        const v1 = await expectReason(challengeWith(forwarded(claim())), invalid);
        expect(v1.message).toMatch(/client address/);
        // Repeated, and not an IP address (under a valid MAC).
        await expectReason(
          challengeWith({ ...good, [FORWARDED_HEADERS.address]: ["192.0.2.10", "192.0.2.10"] }),
          invalid,
        );
        const malformed = await expectReason(
          challengeWith(forwarded(claim("host.example"))),
          invalid,
        );
        expect(malformed.message).toMatch(/malformed client address/);
        // Replayed onto Challenge from a MAC made for Token.
        await expectReason(
          challengeWith(forwarded(claim("192.0.2.10"), { target: TOKEN })),
          invalid,
        );
      });

      it("keeps the v1 format (no address) working for a forwarded certificate", async () => {
        const value = encodeURIComponent(agent.agentTls.cert.toString());
        const issued = await challengeWith(forwarded({ kind: "cert", value, target: CHALLENGE }));
        // The agent's certificate may ask for a DID proof too: the v1 forward still names it.
        expect(issued.kind).toBe(ChallengeKind.DID_PROOF);
        rememberSecret(issued.challengeId);
      });
    });
  },
);

describe.each(STORE_KINDS)("adaptive proof of work and DID claims (%s store)", (storeKind) => {
  let t: TestSidecar;

  beforeAll(async () => {
    t = await startTestSidecar({
      storeKind,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
      overrides: {
        limits: { adaptive: { enabled: true, threshold: 3 } },
        sidecar: { legacyAuth4agent: true },
      },
    });
  });
  afterAll(() => t?.stop());

  it("a stranger's flood puts only the stranger's address under proof of work, not the agent", async () => {
    const agent = await enrollAgent(t.gh);
    const post = (localAddress: string) => (path: string, body: unknown) =>
      http1(t.gh.caPem, `${t.url}${path}`, {
        method: "POST",
        body: JSON.stringify(body),
        localAddress,
      });
    const stranger = post(from(2));
    for (let i = 0; i < 3; i++) {
      const answer = await stranger("/v1/challenge", { did: agent.did });
      expect(answer.status, answer.text).toBe(200);
      const { challenge, nonce } = answer.json() as { challenge: string; nonce: string };
      rememberSecret(challenge, nonce);
    }
    // A claimant cannot obtain the hashcash ticket: past the threshold it is refused.
    const refused = await stranger("/v1/challenge", { did: agent.did });
    expect(refused.status, refused.text).toBe(428);
    await auth4agentLogin(post(from(3)), agent, AUDIENCE);
  });
});
