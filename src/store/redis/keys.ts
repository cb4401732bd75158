import { StorePreconditionError } from "../common.js";
import type { RevocationKind } from "../ports.js";

/**
 * The key layout. Every key the multi-key scripts touch together carries the hash tag
 * `{registry}`, so on Redis Cluster they share one slot and the scripts stay atomic.
 * Single-key records (one-time, nonces, revocations) carry no tag and spread over the
 * cluster. Ids come last in each key, so an id containing ":" cannot collide.
 */
export interface RedisKeys {
  oneTime(namespace: "challenge" | "pass", id: string): string;
  nonce(namespace: string, id: string): string;
  operator(domain: string): string;
  agent(did: string): string;
  publicKey(publicKeyHex: string): string;
  /** Sorted set (all scores 0) of every DID, for lexicographic cursor pagination. */
  readonly agentIndex: string;
  revocation(kind: RevocationKind, id: string): string;
  /** An agent's issued-until watermark (revoked key). */
  issuedUntil(did: string): string;
  /** The pub/sub channel of cache invalidations. */
  readonly invalidations: string;
  /** Hash kid → signing key JSON. */
  readonly signingKeys: string;
  /** List of audit entry JSON, in chain order (tag `{audit}`, with its head). */
  readonly auditLog: string;
  /** The audit chain's head, `<seq>:<hash>`; written by the same script as the list. */
  readonly auditHead: string;
  /** The audit key's JSON (set if absent). */
  readonly auditKey: string;
}

/** `prefix` separates deployments (or tests) sharing one Redis. */
export function redisKeys(prefix: string): RedisKeys {
  // A brace in the prefix would become the hash tag and split the registry over slots.
  if (prefix === "" || /[{}]/.test(prefix)) {
    throw new StorePreconditionError("redis key prefix must be non-empty and brace-free");
  }
  const registry = `${prefix}:{registry}`;
  return {
    oneTime: (namespace, id) => `${prefix}:ot:${namespace}:${id}`,
    nonce: (namespace, id) => `${prefix}:nonce:${namespace}:${id}`,
    operator: (domain) => `${registry}:operator:${domain}`,
    agent: (did) => `${registry}:agent:${did}`,
    publicKey: (publicKeyHex) => `${registry}:pubkey:${publicKeyHex}`,
    agentIndex: `${registry}:agents`,
    revocation: (kind, id) => `${prefix}:revoked:${kind}:${id}`,
    issuedUntil: (did) => `${prefix}:issued-until:${did}`,
    invalidations: `${prefix}:invalidations`,
    signingKeys: `${prefix}:signing-keys`,
    auditLog: `${prefix}:{audit}:log`,
    auditHead: `${prefix}:{audit}:head`,
    auditKey: `${prefix}:audit-key`,
  };
}
