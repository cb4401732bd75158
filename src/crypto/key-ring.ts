import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { calculateJwkThumbprint, exportJWK, type JWK } from "jose";
import type { Clock } from "../clock.js";
import type { SigningAlg, SigningKeyRecord, SigningKeyStore } from "../store/ports.js";

/** A key that signs tokens now. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: KeyObject;
}

/** A key a token may name in its `kid` header. */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly publicKey: KeyObject;
  readonly jwk: JWK;
}

export interface KeyRing {
  /** The key to sign with; generated and persisted on first use if the store has none. */
  signingKey(): Promise<SigningKey>;
  /** The published key by kid, from memory (the Verify hot path); undefined when unknown. */
  lookup(kid: string): VerificationKey | undefined;
  /**
   * Reloads keys from the store (another replica may have added one). Rate-limited so a
   * flood of unknown kids cannot turn into a flood of store reads.
   */
  refresh(): Promise<void>;
  /** Every published key, for the JWKS. */
  published(): Promise<readonly VerificationKey[]>;
  /**
   * Forced rotation: a new key, published now, signing from `activateAt` on (so verifiers
   * that cache the JWKS learn it before the first token it signs).
   */
  rotate(alg: SigningAlg, activateAt: number): Promise<SigningKeyRecord>;
}

export interface KeyRingOptions {
  readonly store: SigningKeyStore;
  readonly clock: Clock;
  readonly alg: SigningAlg;
  /** Minimum interval between store reloads triggered by unknown kids. */
  readonly refreshIntervalMs?: number;
}

export function createKeyRing(options: KeyRingOptions): KeyRing {
  const { store, clock, alg } = options;
  const refreshIntervalMs = options.refreshIntervalMs ?? 1_000;
  let records: readonly SigningKeyRecord[] = [];
  let verification = new Map<string, VerificationKey>();
  const privateKeys = new Map<string, KeyObject>();
  let lastLoad = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;

  async function load(): Promise<void> {
    records = await store.list();
    const next = new Map<string, VerificationKey>();
    for (const record of records) {
      const existing = verification.get(record.kid);
      next.set(record.kid, existing ?? (await toVerificationKey(record)));
    }
    verification = next;
    lastLoad = clock.now();
  }

  function loadOnce(): Promise<void> {
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  function isPublished(record: SigningKeyRecord, now: number): boolean {
    return record.retireAt === undefined || record.retireAt > now;
  }

  /** The newest active key of the configured alg; ties broken by kid so replicas agree. */
  function pickSigner(now: number): SigningKeyRecord | undefined {
    return records
      .filter((r) => r.alg === alg && r.activateAt <= now && isPublished(r, now))
      .sort((a, b) => b.activateAt - a.activateAt || (a.kid < b.kid ? -1 : 1))[0];
  }

  return {
    async signingKey() {
      if (lastLoad === Number.NEGATIVE_INFINITY) await loadOnce();
      let record = pickSigner(clock.now());
      if (!record) {
        await store.add(await generateSigningKey(alg, clock.now()));
        await loadOnce();
        record = pickSigner(clock.now());
      }
      if (!record) throw new Error("no signing key available");
      let privateKey = privateKeys.get(record.kid);
      if (!privateKey) {
        privateKey = createPrivateKey(record.privateKeyPem);
        privateKeys.set(record.kid, privateKey);
      }
      return { kid: record.kid, alg: record.alg, privateKey };
    },
    lookup(kid) {
      return verification.get(kid);
    },
    async refresh() {
      if (clock.now() - lastLoad < refreshIntervalMs) return;
      await loadOnce();
    },
    async rotate(nextAlg, activateAt) {
      const record = { ...(await generateSigningKey(nextAlg, clock.now())), activateAt };
      await store.add(record);
      await loadOnce();
      return record;
    },
    async published() {
      if (lastLoad === Number.NEGATIVE_INFINITY) await loadOnce();
      const now = clock.now();
      return records
        .filter((r) => isPublished(r, now))
        .flatMap((r) => verification.get(r.kid) ?? []);
    },
  };
}

/** Generates a key whose kid is its RFC 7638 JWK thumbprint. */
export async function generateSigningKey(alg: SigningAlg, now: number): Promise<SigningKeyRecord> {
  const { privateKey } =
    alg === "EdDSA"
      ? generateKeyPairSync("ed25519")
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = await exportJWK(createPublicKey(privateKey));
  return {
    kid: await calculateJwkThumbprint(jwk, "sha256"),
    alg,
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    createdAt: now,
    activateAt: now,
  };
}

async function toVerificationKey(record: SigningKeyRecord): Promise<VerificationKey> {
  const publicKey = createPublicKey(createPrivateKey(record.privateKeyPem));
  const jwk = { ...(await exportJWK(publicKey)), kid: record.kid, alg: record.alg, use: "sig" };
  return { kid: record.kid, alg: record.alg, publicKey, jwk };
}
