import { generateKeyPairSync, sign } from "node:crypto";
import { createManualClock, type ManualClock } from "../../../../src/clock.js";
import type { KeyRing, VerificationKey } from "../../../../src/crypto/key-ring.js";
import type { DpopResult, DpopVerifier } from "../../../../src/dpop/index.js";
import { createMemoryStore } from "../../../../src/store/memory/index.js";
import type { AgentRecord, PolicyRecord, Store } from "../../../../src/store/ports.js";
import type {
  VerifiedClaims,
  VerifyDeps,
  VerifyInput,
  VerifyState,
} from "../../../../src/verify/types.js";

/** A Monday, 12:00 UTC. */
export const NOW_MS = Date.UTC(2030, 0, 7, 12);
export const NOW = NOW_MS / 1000;
export const ISSUER = "https://gatehouse.example";
export const AUDIENCE = "https://api.example.com";
export const OPERATOR = "example.com";
export const DID = "did:agent:example.com:0123456789abcdef0123456789abcdef";
export const SKEW = 30;
export const MAX_TTL = 3600;

export function policy(changes: Partial<PolicyRecord> = {}): PolicyRecord {
  return { scopes: ["orders:read"], audiences: [AUDIENCE], maxTokenTtlSeconds: 0, ...changes };
}

export function agentRecord(changes: Partial<AgentRecord> = {}): AgentRecord {
  return {
    did: DID,
    operatorDomain: OPERATOR,
    publicKeyHex: "11".repeat(32),
    status: "active",
    policy: policy(),
    policyVersion: 1,
    displayName: "agent",
    createdAt: NOW_MS - 86_400_000,
    updatedAt: NOW_MS - 86_400_000,
    revision: 1,
    ...changes,
  };
}

export function claims(changes: Partial<VerifiedClaims> = {}): VerifiedClaims {
  return {
    iss: ISSUER,
    sub: DID,
    aud: [AUDIENCE],
    scopes: ["orders:read"],
    operator: OPERATOR,
    iat: NOW - 60,
    nbf: NOW - 60,
    exp: NOW + 240,
    jti: "token-1",
    ...changes,
  };
}

export function input(changes: Partial<VerifyInput> = {}): VerifyInput {
  return { token: "h.p.s", audience: AUDIENCE, requiredScopes: ["orders:read"], ...changes };
}

/** The state as the steps before the one under test would leave it. */
export function state(changes: Partial<VerifyState> = {}): VerifyState {
  return {
    input: input(),
    nowMs: NOW_MS,
    now: NOW,
    header: {},
    payload: {},
    signingInput: new Uint8Array(0),
    signature: new Uint8Array(0),
    ...changes,
  };
}

/** An Ed25519 verification key and a signer for it. */
export function ed25519Key(kid = "k1"): {
  key: VerificationKey;
  sign: (input: Uint8Array) => Uint8Array;
} {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return {
    key: { kid, alg: "EdDSA", publicKey, jwk: {} },
    sign: (data) => new Uint8Array(sign(null, data, privateKey)),
  };
}

/** A key ring holding `keys`, counting refreshes; `later` appear only after a refresh. */
export function keyRing(
  keys: readonly VerificationKey[],
  later: readonly VerificationKey[] = [],
): KeyRing & { refreshes: number } {
  let known = [...keys];
  const ring = {
    refreshes: 0,
    lookup: (kid: string) => known.find((key) => key.kid === kid),
    refresh: async () => {
      ring.refreshes++;
      known = [...keys, ...later];
    },
  };
  // Only lookup and refresh are read by the steps.
  return ring as unknown as KeyRing & { refreshes: number };
}

/** A DPoP verifier that answers `result` and records what it was asked. */
export function dpopAnswering(result: DpopResult): DpopVerifier & { asked: unknown[] } {
  const asked: unknown[] = [];
  return {
    asked,
    algs: ["EdDSA"],
    nonce: () => undefined,
    verify: async (proof, request) => {
      asked.push({ proof, ...request });
      return result;
    },
  };
}

export interface Harness {
  readonly clock: ManualClock;
  readonly store: Store;
  readonly deps: VerifyDeps;
}

/** Verify deps over an in-memory store (registry holding an active operator), manual clock. */
export async function harness(changes: Partial<VerifyDeps> = {}): Promise<Harness> {
  const clock = createManualClock(NOW_MS);
  const store = await createMemoryStore({ clock });
  await store.registry.createOperator({
    domain: OPERATOR,
    displayName: "Example",
    status: "active",
    createdAt: NOW_MS - 86_400_000,
  });
  const deps: VerifyDeps = {
    settings: {
      issuer: ISSUER,
      clockSkewSeconds: SKEW,
      maxTokenTtlSeconds: MAX_TTL,
      maxCacheTtlSeconds: 30,
    },
    clock,
    keys: keyRing([]),
    registry: store.registry,
    revocations: store.revocations,
    dpop: dpopAnswering({ ok: true, jkt: "" }),
    envelopes: store.envelopes,
    rateLimits: store.rateLimits,
    grants: store.grants,
    ...changes,
  };
  return { clock, store, deps };
}
