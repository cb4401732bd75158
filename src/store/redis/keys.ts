import { StorePreconditionError } from "../common.js";
import type { RevocationKind } from "../ports.js";

/** The one-time stores: gate challenges, passes and approval tickets. */
export type OneTimeNamespace = "challenge" | "pass" | "ticket";

/**
 * The key layout. Every key the multi-key scripts touch together carries one hash tag
 * (`{registry}`, `{grants}`, `{approvers}`, `{audit}`), so on Redis Cluster they share one
 * slot and the scripts stay atomic. Single-key records (one-time, nonces, revocations,
 * sessions, denial back-offs) carry no tag and spread over the cluster. Ids come last in
 * each key, so an id containing ":" cannot collide.
 */
export interface RedisKeys {
  oneTime(namespace: OneTimeNamespace, id: string): string;
  nonce(namespace: string, id: string): string;
  operator(domain: string): string;
  agent(did: string): string;
  publicKey(publicKeyHex: string): string;
  /** Sorted set (all scores 0) of every DID, for lexicographic cursor pagination. */
  readonly agentIndex: string;
  revocation(kind: RevocationKind, id: string): string;
  /** An agent's issued-until watermark (revoked key). */
  issuedUntil(did: string): string;
  /** Whom a live token (by `jti`) was issued to. */
  issuedToken(jti: string): string;
  /** The pub/sub channel of cache invalidations. */
  readonly invalidations: string;
  /** Hash kid → signing key JSON. */
  readonly signingKeys: string;
  /** List of audit entry JSON, in chain order (tag `{audit}`, with its head). */
  readonly auditLog: string;
  /** The audit chain's head, `<seq>:<hash>`; written by the same script as the list. */
  readonly auditHead: string;
  /** The last entry pruned, `<seq>:<hash>` (tag `{audit}`): the list starts after it. */
  readonly auditBase: string;
  /** The audit key's JSON (set if absent). */
  readonly auditKey: string;
  grant(id: string): string;
  /** Sorted set of an agent's pending grant ids, scored by `expiresAt`. */
  pendingGrants(agentDid: string): string;
  /** Sorted sets (all scores 0) of grant list keys (grantListKey): all, per domain, per agent. */
  readonly grantIndex: string;
  grantIndexByDomain(operatorDomain: string): string;
  grantIndexByAgent(agentDid: string): string;
  /** Hash of an agent's consecutive denials (`denials`) and back-off end (`until`). */
  grantDenials(agentDid: string): string;
  /** Hash of an approver: `record` (JSON) and `counter:<credential id>` per passkey. */
  approver(id: string): string;
  /** Hash credential id → approver id, for every passkey ever registered. */
  readonly approverCredentials: string;
  /** Sorted set of a domain's approver ids, scored by `createdAt`. */
  approversByDomain(operatorDomain: string): string;
  session(id: string): string;
}

/** `prefix` separates deployments (or tests) sharing one Redis. */
export function redisKeys(prefix: string): RedisKeys {
  // A brace in the prefix would become the hash tag and split the registry over slots.
  if (prefix === "" || /[{}]/.test(prefix)) {
    throw new StorePreconditionError("redis key prefix must be non-empty and brace-free");
  }
  const registry = `${prefix}:{registry}`;
  const grants = `${prefix}:{grants}`;
  const approvers = `${prefix}:{approvers}`;
  return {
    oneTime: (namespace, id) => `${prefix}:ot:${namespace}:${id}`,
    nonce: (namespace, id) => `${prefix}:nonce:${namespace}:${id}`,
    operator: (domain) => `${registry}:operator:${domain}`,
    agent: (did) => `${registry}:agent:${did}`,
    publicKey: (publicKeyHex) => `${registry}:pubkey:${publicKeyHex}`,
    agentIndex: `${registry}:agents`,
    revocation: (kind, id) => `${prefix}:revoked:${kind}:${id}`,
    issuedUntil: (did) => `${prefix}:issued-until:${did}`,
    issuedToken: (jti) => `${prefix}:issued-token:${jti}`,
    invalidations: `${prefix}:invalidations`,
    signingKeys: `${prefix}:signing-keys`,
    auditLog: `${prefix}:{audit}:log`,
    auditHead: `${prefix}:{audit}:head`,
    auditBase: `${prefix}:{audit}:base`,
    auditKey: `${prefix}:audit-key`,
    grant: (id) => `${grants}:grant:${id}`,
    pendingGrants: (agentDid) => `${grants}:pending:${agentDid}`,
    grantIndex: `${grants}:index`,
    grantIndexByDomain: (operatorDomain) => `${grants}:by-domain:${operatorDomain}`,
    grantIndexByAgent: (agentDid) => `${grants}:by-agent:${agentDid}`,
    grantDenials: (agentDid) => `${prefix}:grant-denials:${agentDid}`,
    approver: (id) => `${approvers}:approver:${id}`,
    approverCredentials: `${approvers}:credentials`,
    approversByDomain: (operatorDomain) => `${approvers}:by-domain:${operatorDomain}`,
    session: (id) => `${prefix}:session:${id}`,
  };
}
