import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import {
  agentDid,
  dpopProof,
  generateAgentKey,
  proofOfPossession,
  rotationSignatures,
} from "../../src/client/agent-keys.js";
import { deriveAgentDid } from "../../src/crypto/did.js";
import { decodeDidKey, encodeDidKey } from "../../src/crypto/did-key.js";
import { parseProof } from "../../src/dpop/index.js";
import { expectReason } from "../support/errors.js";
import { useGatehouse } from "../support/fixture.js";
import { AUDIENCE, type Clients, grpcClients, login, signedChallenge } from "../support/flows.js";
import { ISSUER } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

/**
 * Issue 11 item 1: forged signatures under weak Ed25519 keys. A small-order public key (here
 * `01` followed by 31 zero bytes, the identity) makes node:crypto accept R = identity, S = 0
 * for every message; every key from outside goes through the one parser, and every
 * verification refuses small-order R and S ≥ L.
 */
const WEAK_KEY = Buffer.from(`01${"00".repeat(31)}`, "hex");
/** y = p − 1 with the sign bit set: x = 0 with the sign bit set, a non-canonical encoding. */
const NON_CANONICAL_KEY = Buffer.from(`ec${"ff".repeat(31)}`, "hex");
/** R = identity, S = 0: valid for every message under WEAK_KEY, by node:crypto alone. */
const FORGED_SIGNATURE = Buffer.concat([WEAK_KEY, Buffer.alloc(32)]);
const TOKEN_URL = `${ISSUER}/v1/tokens`;
const RESOURCE_URL = `${AUDIENCE}/orders`;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A compact JWS with the forged signature: it needs no private key. */
const forgedJws = (header: object, claims: object) =>
  `${b64(header)}.${b64(claims)}.${FORGED_SIGNATURE.toString("base64url")}`;

/** The same bytes, another spelling: the last character with a non-zero pad bit. */
function respelled(jws: string): string {
  const last = jws.charCodeAt(jws.length - 1);
  const respelledJws = `${jws.slice(0, -1)}${String.fromCharCode(last + 1)}`;
  const signature = (value: string) => Buffer.from(value.split(".")[2] ?? "", "base64url");
  expect(signature(respelledJws)).toEqual(signature(jws));
  return respelledJws;
}

describe.each(STORE_KINDS)("weak Ed25519 keys and JOSE malleability (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const env = useGatehouse({ storeKind, redisUrl });
  let operator: Clients;

  beforeAll(async () => {
    operator = grpcClients(env.gh, env.agent.operatorTls);
    return () => operator.close();
  });

  const register = (did: string, publicKey: Uint8Array, proof: Uint8Array = FORGED_SIGNATURE) =>
    operator.registry.registerAgent({
      did,
      publicKey,
      proofOfPossession: proof,
      policy: { scopes: ["orders:read"], audiences: [AUDIENCE] },
      displayName: "weak-keys test",
    });

  it("RegisterAgent refuses a small-order key: INVALID_ARGUMENT naming public_key", async () => {
    const did = deriveAgentDid(env.agent.domain, WEAK_KEY);
    const error = await expectReason(register(did, WEAK_KEY), Reason.INVALID_ARGUMENT);
    expect(error.field).toBe("public_key");
    expect(error.message).toContain("small-order");
  });

  it("RegisterAgent refuses a non-canonical key encoding", async () => {
    const error = await expectReason(
      register(deriveAgentDid(env.agent.domain, NON_CANONICAL_KEY), NON_CANONICAL_KEY),
      Reason.INVALID_ARGUMENT,
    );
    expect(error.field).toBe("public_key");
  });

  it("a did:key DID encoding a small-order key is refused", async () => {
    const did = encodeDidKey(WEAK_KEY);
    expect(decodeDidKey(did)).toBeUndefined();
    const weak = await expectReason(register(did, WEAK_KEY), Reason.INVALID_ARGUMENT);
    expect(weak.field).toBe("public_key");
    // With a sound key beside it, the DID names no acceptable key: DID_KEY_MISMATCH.
    const key = generateAgentKey();
    const mismatch = await expectReason(
      register(did, key.publicKey, proofOfPossession(key, did, env.agent.domain)),
      Reason.DID_KEY_MISMATCH,
    );
    expect(mismatch.field).toBe("did");
  });

  it("RotateAgentKey refuses to rotate to a small-order key", async () => {
    const { key, did, domain } = env.agent;
    // The current key signs honestly; the new key's "proof" is the forgery.
    const weakKey = { privateKey: key.privateKey, publicKey: WEAK_KEY };
    const { currentKeySignature } = rotationSignatures(key, weakKey, did, domain);
    const error = await expectReason(
      operator.registry.rotateAgentKey({
        did,
        newPublicKey: WEAK_KEY,
        currentKeySignature,
        newKeyProof: FORGED_SIGNATURE,
      }),
      Reason.INVALID_ARGUMENT,
    );
    expect(error.field).toBe("new_public_key");
    const { agent } = await operator.registry.getAgent({ did });
    expect(Buffer.from(agent?.publicKey ?? [])).toEqual(Buffer.from(key.publicKey));
  });

  describe("an agent whose weak key is already in the store (registered before the fix)", () => {
    let weakDid: string;
    let weakAgent: Clients;

    beforeAll(async () => {
      const store = env.gh.app.store;
      const template = await store.registry.getAgent(env.agent.did);
      if (!template) throw new Error("the enrolled agent is missing");
      weakDid = deriveAgentDid(env.agent.domain, WEAK_KEY);
      await store.registry.createAgent({
        ...template,
        did: weakDid,
        publicKeyHex: WEAK_KEY.toString("hex"),
        revision: 1,
      });
      weakAgent = grpcClients(env.gh, await env.gh.clientTls({ role: "agent", did: weakDid }));
      return () => weakAgent.close();
    });

    it("a forged (R = identity, S = 0) signature challenge answer never yields a token", async () => {
      const challenge = await weakAgent.gate.challenge({
        did: weakDid,
        kind: ChallengeKind.SIGNATURE,
        scopes: ["orders:read"],
        audience: AUDIENCE,
      });
      await expectReason(
        weakAgent.gate.submit({
          challengeId: challenge.challengeId,
          answer: { case: "signature", value: { signature: FORGED_SIGNATURE } },
        }),
        Reason.ANSWER_INVALID,
      );
    });

    it("a forged JWT-bearer assertion is ASSERTION_INVALID", async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = forgedJws(
        { alg: "EdDSA", typ: "JWT" },
        { iss: weakDid, sub: weakDid, aud: ISSUER, iat: now, exp: now + 60, jti: "forged-1" },
      );
      await expectReason(
        weakAgent.gate.token({
          grant: {
            case: "assertion",
            value: { assertion, scopes: ["orders:read"], audience: AUDIENCE },
          },
        }),
        Reason.ASSERTION_INVALID,
      );
    });
  });

  it("a DPoP proof whose jwk is a small-order key is refused (DPOP_INVALID)", async () => {
    const proof = forgedJws(
      {
        typ: "dpop+jwt",
        alg: "EdDSA",
        jwk: { kty: "OKP", crv: "Ed25519", x: WEAK_KEY.toString("base64url") },
      },
      {
        jti: randomBytes(16).toString("base64url"),
        htm: "POST",
        htu: TOKEN_URL,
        iat: Math.floor(Date.now() / 1000),
      },
    );
    // The parser itself refuses it (node:crypto alone verifies this forged signature).
    expect(parseProof(proof)).toBeUndefined();
    const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
    const { passToken: pass } = await env.clients.gate.submit({
      challengeId,
      answer: { case: "signature", value: { signature } },
    });
    rememberSecret(pass);
    const error = await expectReason(
      env.clients.gate.token({ grant: { case: "passToken", value: pass }, dpopProof: proof }),
      Reason.DPOP_INVALID,
    );
    expect(error.field).toBe("dpop_proof");
  });

  it("an operator key of small order is refused too (the same parser)", async () => {
    const error = await expectReason(
      operator.registry.setOperatorKey({ domain: env.agent.domain, publicKey: WEAK_KEY }),
      Reason.INVALID_ARGUMENT,
    );
    expect(error.field).toBe("public_key");
  });

  it("a sound agent still registers (the parser accepts ordinary keys)", async () => {
    const key = generateAgentKey();
    const did = agentDid(key, env.agent.domain);
    const { agent } = await register(
      did,
      key.publicKey,
      proofOfPossession(key, did, env.agent.domain),
    );
    expect(agent?.did).toBe(did);
  });

  describe("issue 11 item 14: one spelling per JWS (RFC 7515 §2, RFC 4648 §3.5)", () => {
    it("Verify denies a token whose signature is re-spelled: TOKEN_MALFORMED", async () => {
      const token = await login(env.clients.gate, env.agent);
      const verify = (value: string) =>
        env.verifier.verify.verify({
          token: value,
          audience: AUDIENCE,
          requiredScopes: ["orders:read"],
        });
      const altered = respelled(token);
      rememberSecret(altered);
      const denied = await verify(altered);
      expect(denied.allowed).toBe(false);
      expect(Reason[denied.reason]).toBe(Reason[Reason.TOKEN_MALFORMED]);
      expect((await verify(token)).allowed).toBe(true);
    });

    it("Verify denies a DPoP proof re-spelled the same way: DPOP_INVALID", async () => {
      const { challengeId, signature } = await signedChallenge(env.clients.gate, env.agent);
      const { passToken: pass } = await env.clients.gate.submit({
        challengeId,
        answer: { case: "signature", value: { signature } },
      });
      rememberSecret(pass);
      const { accessToken } = await env.clients.gate.token({
        grant: { case: "passToken", value: pass },
        dpopProof: dpopProof(env.agent.key, { htm: "POST", htu: TOKEN_URL }),
      });
      rememberSecret(accessToken);
      const verify = (proof: string) =>
        env.verifier.verify.verify({
          token: accessToken,
          audience: AUDIENCE,
          requiredScopes: ["orders:read"],
          dpopProof: proof,
          httpMethod: "GET",
          httpUrl: RESOURCE_URL,
        });
      const proof = dpopProof(env.agent.key, { htm: "GET", htu: RESOURCE_URL, accessToken });
      const altered = respelled(proof);
      rememberSecret(proof, altered);
      const denied = await verify(altered);
      expect(denied.allowed).toBe(false);
      expect(Reason[denied.reason]).toBe(Reason[Reason.DPOP_INVALID]);
      // The canonical proof was not consumed by the refused spelling.
      expect((await verify(proof)).allowed).toBe(true);
    });
  });
});
