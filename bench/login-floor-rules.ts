/**
 * The rules floor (`BENCH_ONLY=login`, after the store floor): the store floor's login
 * (bench/login-floor.ts) plus the store work of the rules a Gatehouse login keeps, done with
 * Gatehouse's own store adapters (src/store/redis) and audit writer (src/audit/writer.ts)
 * and nothing else of Gatehouse — no services, policy, validation, metrics, logging or RPC
 * layer. Per login, beside the store floor's transport and two signatures:
 *   - Challenge: the per-identity and per-address limits (one rate-limit script), the
 *     challenge stored (Gatehouse's one-time store) and a CHALLENGE_ISSUED entry;
 *   - Submit: the Submit limits, the challenge consumed once (its script), the agent read
 *     from the registry and checked active, the pass stored and a PASS_ISSUED entry;
 *   - Token: the pass consumed once, the agent, its operator and its key's revocation read,
 *     the issued-token record and a TOKEN_ISSUED entry.
 * Every audit entry is chained and signed through the audit writer (batched as Gatehouse
 * batches, conflicting between processes as Gatehouse's workers do), so the target's
 * "audit chain intact and verifiable" is kept. The same Redis commands per login as
 * Gatehouse sends (the bench prints both), so what Gatehouse costs beyond it is its own code.
 *
 * The registry is read where the bench enrolled the agents (Gatehouse's keys, read only); the
 * floor's own records, limits and audit chain live under a prefix of their own, so
 * Gatehouse's audit chain (checked after the runs) holds only Gatehouse's entries.
 */
import { AuditEventType } from "../gen/gatehouse/v1/audit_pb.js";
import { domainOfDid } from "../src/audit/events.js";
import { loadAuditKey } from "../src/audit/key.js";
import { createAuditWriter } from "../src/audit/writer.js";
import { systemClock } from "../src/clock.js";
import { MAX_RATE_LIMIT } from "../src/config/limits.js";
import { ed25519ThumbprintOfHex } from "../src/crypto/jose/thumbprint.js";
import { createLogger } from "../src/observability/logger.js";
import type { RateLimitHit } from "../src/store/ports.js";
import { connectRedis, createRedisStore } from "../src/store/redis/index.js";
import type { FloorPeer, FloorState, Grant, Pending } from "./login-floor.js";

/** The floor's own keys; Gatehouse's are under "gh". */
export const RULES_PREFIX = "floor-rules";
/** Gatehouse's default limits window (`limits.windowSeconds`); the bench's limits are the highest. */
const WINDOW_MS = 60_000;

export async function rulesState(url: string): Promise<FloorState> {
  const redis = connectRedis(url);
  const gatehouse = createRedisStore({ redis });
  const own = createRedisStore({ redis, prefix: RULES_PREFIX });
  const audit = createAuditWriter({
    log: own.audit,
    key: await loadAuditKey(own.audit, systemClock),
    clock: systemClock,
    logger: createLogger("silent"),
  });

  const limit = async (action: "challenge" | "submit", peer: FloorPeer) => {
    const hits: RateLimitHit[] = [
      { key: `${action}:identity:all:${peer.caller}`, limit: MAX_RATE_LIMIT, windowMs: WINDOW_MS },
      { key: `${action}:address:all:${peer.address}`, limit: MAX_RATE_LIMIT, windowMs: WINDOW_MS },
    ];
    const results = await own.rateLimits.hitEach(hits);
    if (results.some((result) => !result.allowed)) throw new Error("rate limited");
  };
  const activeAgent = async (did: string) => {
    const agent = await gatehouse.registry.getAgent(did);
    if (agent?.status !== "active") throw new Error("agent not active");
    return agent;
  };
  const event = (type: AuditEventType, peer: FloorPeer, grant: Grant, extra = {}) => ({
    type,
    actorRole: "agent",
    actor: grant.did,
    actorFingerprint: peer.caller,
    subjectDid: grant.did,
    operatorDomain: domainOfDid(grant.did),
    scopes: grant.scope.split(" "),
    audiences: [grant.audience],
    ...extra,
  });
  const take = async <T>(kind: "challenges" | "passes", id: string) => {
    const taken = await own[kind].consume(id);
    return taken.status === "ok" ? (taken.value as T) : undefined;
  };

  return {
    async putChallenge(id, pending, ttlMs, peer) {
      await limit("challenge", peer);
      const stored = { ...pending, input: Buffer.from(pending.input).toString("base64") };
      await Promise.all([
        own.challenges.put(id, stored, ttlMs),
        audit.record(event(AuditEventType.CHALLENGE_ISSUED, peer, pending)),
      ]);
    },
    async takeChallenge(id, peer) {
      const [, stored] = await Promise.all([
        limit("submit", peer),
        take<Pending & { input: string }>("challenges", id),
      ]);
      if (!stored) return undefined;
      await activeAgent(stored.did);
      return { ...stored, input: Buffer.from(stored.input, "base64") };
    },
    async putPass(id, grant, ttlMs, peer) {
      await Promise.all([
        own.passes.put(id, { did: grant.did, scope: grant.scope, audience: grant.audience }, ttlMs),
        audit.record(event(AuditEventType.PASS_ISSUED, peer, grant)),
      ]);
    },
    async takePass(id) {
      const grant = await take<Grant>("passes", id);
      if (!grant) return undefined;
      const [agent, operator] = await Promise.all([
        activeAgent(grant.did),
        gatehouse.registry.getOperator(domainOfDid(grant.did)),
      ]);
      const revoked = await gatehouse.revocations.isRevoked(
        "agent_key",
        ed25519ThumbprintOfHex(agent.publicKeyHex),
      );
      return operator?.status === "active" && !revoked ? grant : undefined;
    },
    firstJti: (jti, ttlMs) => own.nonces.useOnce("assertion", jti, Math.max(1, ttlMs)),
    async issued(grant, jti, expMs, peer) {
      await Promise.all([
        own.issuedTokens.record(
          jti,
          { sub: grant.did, operatorDomain: domainOfDid(grant.did), exp: Math.floor(expMs / 1000) },
          Math.max(1, expMs - Date.now()),
        ),
        audit.record(event(AuditEventType.TOKEN_ISSUED, peer, grant, { tokenId: jti })),
      ]);
    },
    async close() {
      await audit.flush();
      await own.close();
      await gatehouse.close();
      await redis.quit();
    },
  };
}
