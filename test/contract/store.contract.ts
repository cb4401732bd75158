import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ManualClock } from "../../src/clock.js";
import {
  DuplicateIdError,
  PublicKeyInUseError,
  StorePreconditionError,
} from "../../src/store/common.js";
import type {
  AgentListQuery,
  AgentRecord,
  ApproverRecord,
  AuditHead,
  DomainVerificationRecord,
  GrantListQuery,
  GrantRecord,
  OperatorRecord,
  SigningKeyRecord,
  Store,
} from "../../src/store/ports.js";

export interface StoreUnderTest {
  readonly store: Store;
  /** The clock driving the store's TTLs; absent when they run on real time (Redis). */
  readonly clock?: ManualClock;
  cleanup(): Promise<void>;
}

/** Long enough never to expire during a test. */
const LONG_TTL_MS = 60_000;
/** Short enough to wait out in real time; ELAPSE_MS leaves margin for slow machines. */
const SHORT_TTL_MS = 150;
const ELAPSE_MS = 300;
const RACERS = 50;
const T0 = 1_700_000_000_000;

export function agentRecord(n: number, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    did: `did:key:z${String(n).padStart(6, "0")}`,
    operatorDomain: "alpha.example",
    publicKeyHex: n.toString(16).padStart(64, "0"),
    status: "active",
    policy: { scopes: ["read"], audiences: ["https://api.example"], maxTokenTtlSeconds: 0 },
    policyVersion: 1,
    displayName: `agent ${n}`,
    createdAt: T0,
    updatedAt: T0,
    revision: 1,
    ...overrides,
  };
}

/** The DID `agentRecord(n)` gets. */
export function didOf(n: number): string {
  return agentRecord(n).did;
}

function operatorRecord(domain: string, overrides: Partial<OperatorRecord> = {}): OperatorRecord {
  return { domain, displayName: domain, status: "active", createdAt: T0, ...overrides };
}

/** Grant `n`: pending, agent 1 of alpha.example, created at T0 + n, lapsing at T0 + 600 s. */
export function grantRecord(n: number, overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id: `g-${String(n).padStart(4, "0")}`,
    agentDid: didOf(1),
    operatorDomain: "alpha.example",
    audience: "https://api.example",
    capabilities: [{ action: "read" }, { action: "custom", name: "refund", resource: "orders" }],
    reason: "reads the order book",
    durationMs: 3_600_000,
    state: "pending",
    createdAt: T0 + n,
    expiresAt: T0 + 600_000,
    revision: 1,
    ...overrides,
  };
}

/** An approver of alpha.example with one passkey per credential id, counters at 0. */
export function approverRecord(
  id: string,
  credentialIds: readonly string[],
  overrides: Partial<ApproverRecord> = {},
): ApproverRecord {
  return {
    id,
    operatorDomain: "alpha.example",
    displayName: `approver ${id}`,
    userHandle: `handle-${id}`,
    passkeys: credentialIds.map((credentialId) => ({
      credentialId,
      publicKey: `cose-${credentialId}`,
      counter: 0,
      transports: ["internal", "hybrid"],
      createdAt: T0,
    })),
    createdAt: T0,
    ...overrides,
  };
}

function signingKey(kid: string, createdAt: number, retireAt?: number): SigningKeyRecord {
  return {
    kid,
    alg: "EdDSA",
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${kid}\n-----END PRIVATE KEY-----\n`,
    createdAt,
    activateAt: createdAt + 1_000,
    ...(retireAt === undefined ? {} : { retireAt }),
  };
}

function count<T>(values: readonly T[], wanted: T): number {
  return values.filter((value) => value === wanted).length;
}

/**
 * The behaviour every Store adapter must share. Each test gets a fresh, empty store.
 * TTLs are tested by letting time pass: a manual clock moves instantly, Redis is waited on.
 */
export function describeStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`${name} store contract`, () => {
    let subject: StoreUnderTest;
    let store: Store;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    async function elapse(ms: number): Promise<void> {
      if (subject.clock) subject.clock.advance(ms);
      else await sleep(ms);
    }

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe.each(["challenges", "passes", "approvalTickets"] as const)(
      "one-time records: %s",
      (port) => {
        const value = { kind: "dpop", nonce: "n-1", nested: { list: [1, "two", null], ok: true } };

        it("returns the value on the first consume", async () => {
          await store[port].put("id-1", value, LONG_TTL_MS);
          await expect(store[port].consume("id-1")).resolves.toEqual({ status: "ok", value });
        });

        it("reports an unknown id as not_found", async () => {
          await expect(store[port].consume("nope")).resolves.toEqual({ status: "not_found" });
        });

        it("reports every later consume as already_used", async () => {
          await store[port].put("id-1", value, LONG_TTL_MS);
          await store[port].consume("id-1");
          await expect(store[port].consume("id-1")).resolves.toEqual({ status: "already_used" });
          await expect(store[port].consume("id-1")).resolves.toEqual({ status: "already_used" });
        });

        it("forgets a record once its TTL passed, consumed or not", async () => {
          await store[port].put("fresh", value, SHORT_TTL_MS);
          await store[port].put("used", value, SHORT_TTL_MS);
          await store[port].consume("used");
          await elapse(ELAPSE_MS);
          await expect(store[port].consume("fresh")).resolves.toEqual({ status: "not_found" });
          await expect(store[port].consume("used")).resolves.toEqual({ status: "not_found" });
        });

        it("accepts an id again once the old record expired", async () => {
          await store[port].put("id-1", "old", SHORT_TTL_MS);
          await elapse(ELAPSE_MS);
          await store[port].put("id-1", "new", LONG_TTL_MS);
          await expect(store[port].consume("id-1")).resolves.toEqual({
            status: "ok",
            value: "new",
          });
        });

        it("refuses to put an id that exists, even once consumed", async () => {
          await store[port].put("id-1", value, LONG_TTL_MS);
          await expect(store[port].put("id-1", "other", LONG_TTL_MS)).rejects.toThrow(
            DuplicateIdError,
          );
          await store[port].consume("id-1");
          await expect(store[port].put("id-1", "other", LONG_TTL_MS)).rejects.toThrow(
            DuplicateIdError,
          );
        });

        it("lets exactly one of many concurrent consumers win", async () => {
          await store[port].put("race", value, LONG_TTL_MS);
          const results = await Promise.all(
            Array.from({ length: RACERS }, () => store[port].consume("race")),
          );
          const statuses = results.map((result) => result.status);
          expect(count(statuses, "ok")).toBe(1);
          expect(count(statuses, "already_used")).toBe(RACERS - 1);
        });

        it.each([0, -1, 1.5, Number.NaN])("refuses ttlMs %s", async (ttlMs) => {
          await expect(store[port].put("id-1", value, ttlMs)).rejects.toThrow(
            StorePreconditionError,
          );
        });

        it("refuses a value JSON cannot carry", async () => {
          await expect(store[port].put("id-1", undefined, LONG_TTL_MS)).rejects.toThrow(
            StorePreconditionError,
          );
        });
      },
    );

    it("keeps challenges, passes and approval tickets apart", async () => {
      await store.challenges.put("same", "challenge", LONG_TTL_MS);
      await store.passes.put("same", "pass", LONG_TTL_MS);
      await store.approvalTickets.put("same", "ticket", LONG_TTL_MS);
      await expect(store.challenges.consume("same")).resolves.toEqual({
        status: "ok",
        value: "challenge",
      });
      await expect(store.passes.consume("same")).resolves.toEqual({ status: "ok", value: "pass" });
      await expect(store.approvalTickets.consume("same")).resolves.toEqual({
        status: "ok",
        value: "ticket",
      });
    });

    describe("nonces", () => {
      it("accepts an id once, then reports replays", async () => {
        await expect(store.nonces.useOnce("dpop", "jti-1", LONG_TTL_MS)).resolves.toBe(true);
        await expect(store.nonces.useOnce("dpop", "jti-1", LONG_TTL_MS)).resolves.toBe(false);
        await expect(store.nonces.useOnce("dpop", "jti-1", LONG_TTL_MS)).resolves.toBe(false);
      });

      it("keeps namespaces apart", async () => {
        await store.nonces.useOnce("dpop", "jti-1", LONG_TTL_MS);
        await expect(store.nonces.useOnce("assertion", "jti-1", LONG_TTL_MS)).resolves.toBe(true);
      });

      it("accepts an id again once its TTL passed", async () => {
        await store.nonces.useOnce("dpop", "jti-1", SHORT_TTL_MS);
        await elapse(ELAPSE_MS);
        await expect(store.nonces.useOnce("dpop", "jti-1", LONG_TTL_MS)).resolves.toBe(true);
      });

      it("lets exactly one of many concurrent callers through", async () => {
        const results = await Promise.all(
          Array.from({ length: RACERS }, () => store.nonces.useOnce("dpop", "race", LONG_TTL_MS)),
        );
        expect(count(results, true)).toBe(1);
        expect(count(results, false)).toBe(RACERS - 1);
      });

      it.each(["", "DPoP", "a:b", "1st"])("refuses namespace %j", async (namespace) => {
        await expect(store.nonces.useOnce(namespace, "jti-1", LONG_TTL_MS)).rejects.toThrow(
          StorePreconditionError,
        );
      });

      it("refuses a non-positive ttlMs", async () => {
        await expect(store.nonces.useOnce("dpop", "jti-1", 0)).rejects.toThrow(
          StorePreconditionError,
        );
      });
    });

    describe("registry: operators", () => {
      it("creates an operator once and reads it back", async () => {
        const operator = operatorRecord("alpha.example");
        await expect(store.registry.createOperator(operator)).resolves.toBe("created");
        await expect(store.registry.getOperator("alpha.example")).resolves.toEqual(operator);
      });

      it("reports a duplicate domain as exists and keeps the first record", async () => {
        const operator = operatorRecord("alpha.example");
        await store.registry.createOperator(operator);
        const impostor = operatorRecord("alpha.example", { displayName: "impostor" });
        await expect(store.registry.createOperator(impostor)).resolves.toBe("exists");
        await expect(store.registry.getOperator("alpha.example")).resolves.toEqual(operator);
      });

      it("returns undefined for an unknown domain", async () => {
        await expect(store.registry.getOperator("nobody.example")).resolves.toBeUndefined();
      });
    });

    describe("registry: agents", () => {
      it("creates an agent and reads it back", async () => {
        const agent = agentRecord(1);
        await expect(store.registry.createAgent(agent)).resolves.toBe("created");
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(agent);
      });

      it("returns undefined for an unknown DID", async () => {
        await expect(store.registry.getAgent("did:key:zunknown")).resolves.toBeUndefined();
      });

      it("reports a duplicate DID as exists and keeps the first record", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const sameDid = agentRecord(2, { did: agent.did });
        await expect(store.registry.createAgent(sameDid)).resolves.toBe("exists");
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(agent);
      });

      it("reports a reused public key as exists and writes nothing", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const sameKey = agentRecord(2, { publicKeyHex: agent.publicKeyHex });
        await expect(store.registry.createAgent(sameKey)).resolves.toBe("exists");
        await expect(store.registry.getAgent(sameKey.did)).resolves.toBeUndefined();
        const page = await store.registry.listAgents({ limit: 10 });
        expect(page.agents.map((a) => a.did)).toEqual([agent.did]);
      });

      it("never reuses the public key of a revoked agent", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const revoked = { ...agent, status: "revoked" as const, revision: 2 };
        await expect(store.registry.updateAgent(revoked, 1)).resolves.toBe(true);
        const sameKey = agentRecord(2, { publicKeyHex: agent.publicKeyHex });
        await expect(store.registry.createAgent(sameKey)).resolves.toBe("exists");
      });

      it("creates exactly one of many concurrent registrations of a DID or key", async () => {
        const sameDid = Array.from({ length: RACERS }, (_, i) =>
          store.registry.createAgent(agentRecord(1_000 + i, { did: "did:key:zrace" })),
        );
        const sameKey = Array.from({ length: RACERS }, (_, i) =>
          store.registry.createAgent(agentRecord(2_000 + i, { publicKeyHex: "ab".repeat(32) })),
        );
        const [didResults, keyResults] = await Promise.all([
          Promise.all(sameDid),
          Promise.all(sameKey),
        ]);
        expect(count(didResults, "created")).toBe(1);
        expect(count(keyResults, "created")).toBe(1);
      });

      it("updates with compare-and-set on the revision", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const suspended = {
          ...agent,
          status: "suspended" as const,
          revision: 2,
          updatedAt: T0 + 1,
        };
        await expect(store.registry.updateAgent(suspended, 1)).resolves.toBe(true);
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(suspended);
      });

      it("refuses a stale revision and keeps the stored record", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const first = { ...agent, displayName: "first", revision: 2 };
        await store.registry.updateAgent(first, 1);
        const stale = { ...agent, displayName: "stale", revision: 2 };
        await expect(store.registry.updateAgent(stale, 1)).resolves.toBe(false);
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(first);
      });

      it("refuses to update an unknown agent", async () => {
        await expect(store.registry.updateAgent(agentRecord(1, { revision: 2 }), 1)).resolves.toBe(
          false,
        );
      });

      it("lets exactly one of many concurrent updates from one revision win", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const results = await Promise.all(
          Array.from({ length: RACERS }, (_, i) =>
            store.registry.updateAgent({ ...agent, displayName: `v${i}`, revision: 2 }, 1),
          ),
        );
        expect(count(results, true)).toBe(1);
        const stored = await store.registry.getAgent(agent.did);
        expect(stored?.revision).toBe(2);
      });

      it.each([1, 3])("refuses next.revision %i when expecting 1", async (revision) => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        await expect(store.registry.updateAgent({ ...agent, revision }, 1)).rejects.toThrow(
          StorePreconditionError,
        );
      });

      it("refuses to change an agent's public key", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const rekeyed = { ...agent, publicKeyHex: "cd".repeat(32), revision: 2 };
        await expect(store.registry.updateAgent(rekeyed, 1)).rejects.toThrow(
          StorePreconditionError,
        );
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(agent);
      });

      /** `agent` with its key rotated to `newKeyHex` at T0 + 1 (the old key retired). */
      function rotated(agent: AgentRecord, newKeyHex: string): AgentRecord {
        return {
          ...agent,
          publicKeyHex: newKeyHex,
          keyCreatedAt: T0 + 1,
          retiredKeys: [
            ...(agent.retiredKeys ?? []),
            { publicKeyHex: agent.publicKeyHex, createdAt: agent.createdAt, retiredAt: T0 + 1 },
          ],
          revision: agent.revision + 1,
        };
      }

      it("rotates a key when the old one is retired, keeping both reserved", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const next = rotated(agent, "cd".repeat(32));
        await expect(store.registry.updateAgent(next, 1)).resolves.toBe(true);
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(next);
        for (const publicKeyHex of [agent.publicKeyHex, next.publicKeyHex]) {
          await expect(store.registry.createAgent(agentRecord(2, { publicKeyHex }))).resolves.toBe(
            "exists",
          );
        }
        // A later ordinary update keeps the history.
        const renamed = { ...next, displayName: "renamed", revision: 3 };
        await expect(store.registry.updateAgent(renamed, 2)).resolves.toBe(true);
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(renamed);
      });

      it("refuses to rotate to a key ever registered, and writes nothing", async () => {
        const agent = agentRecord(1);
        const other = agentRecord(2);
        await store.registry.createAgent(agent);
        await store.registry.createAgent(other);
        await expect(
          store.registry.updateAgent(rotated(agent, other.publicKeyHex), 1),
        ).rejects.toThrow(PublicKeyInUseError);
        // Nor back to a key it retired itself.
        const once = rotated(agent, "cd".repeat(32));
        await store.registry.updateAgent(once, 1);
        await expect(
          store.registry.updateAgent(rotated(once, agent.publicKeyHex), 2),
        ).rejects.toThrow(PublicKeyInUseError);
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(once);
      });

      it("lets exactly one of many concurrent rotations to one new key win", async () => {
        const agents = Array.from({ length: 10 }, (_, i) => agentRecord(10 + i));
        for (const agent of agents) await store.registry.createAgent(agent);
        const results = await Promise.allSettled(
          agents.map((agent) => store.registry.updateAgent(rotated(agent, "ef".repeat(32)), 1)),
        );
        expect(results.filter((r) => r.status === "fulfilled" && r.value).length).toBe(1);
        expect(
          results.filter((r) => r.status === "rejected" && r.reason instanceof PublicKeyInUseError)
            .length,
        ).toBe(agents.length - 1);
      });

      it("keeps a deleted agent as a tombstone: its DID and key are never reused", async () => {
        const agent = agentRecord(1);
        await store.registry.createAgent(agent);
        const deleted = { ...agent, status: "deleted" as const, revision: 2 };
        await expect(store.registry.updateAgent(deleted, 1)).resolves.toBe(true);
        await expect(store.registry.getAgent(agent.did)).resolves.toEqual(deleted);
        await expect(store.registry.createAgent(agentRecord(2, { did: agent.did }))).resolves.toBe(
          "exists",
        );
        await expect(
          store.registry.createAgent(agentRecord(3, { publicKeyHex: agent.publicKeyHex })),
        ).resolves.toBe("exists");
      });
    });

    describe("registry: listing agents", () => {
      /** Agents 1..6: operators alternate alpha/beta; 3 and 6 are suspended. */
      async function seed(): Promise<AgentRecord[]> {
        const agents = [1, 2, 3, 4, 5, 6].map((n) =>
          agentRecord(n, {
            operatorDomain: n % 2 === 1 ? "alpha.example" : "beta.example",
            status: n % 3 === 0 ? "suspended" : "active",
          }),
        );
        // Out of order on purpose: listing must sort by DID, not by insertion.
        for (const i of [4, 0, 5, 2, 1, 3]) {
          await store.registry.createAgent(agents[i] as AgentRecord);
        }
        return agents;
      }

      /** Follows cursors to the end, checking every page respects the limit. */
      async function listAll(query: Omit<AgentListQuery, "afterDid">): Promise<string[]> {
        const dids: string[] = [];
        let afterDid: string | undefined;
        for (let pages = 0; pages < 50; pages++) {
          const page = await store.registry.listAgents(
            afterDid === undefined ? query : { ...query, afterDid },
          );
          expect(page.agents.length).toBeLessThanOrEqual(query.limit);
          dids.push(...page.agents.map((agent) => agent.did));
          if (page.nextAfterDid === undefined) return dids;
          afterDid = page.nextAfterDid;
        }
        throw new Error("pagination did not end");
      }

      const didList = (agents: readonly AgentRecord[]) => agents.map((agent) => agent.did);

      it("returns an empty page for an empty registry", async () => {
        await expect(store.registry.listAgents({ limit: 10 })).resolves.toEqual({ agents: [] });
      });

      it("lists every agent in ascending DID order", async () => {
        const agents = await seed();
        await expect(store.registry.listAgents({ limit: 10 })).resolves.toEqual({ agents });
      });

      it("pages with cursors and ends without one", async () => {
        const agents = await seed();
        const first = await store.registry.listAgents({ limit: 4 });
        expect(didList(first.agents)).toEqual(didList(agents.slice(0, 4)));
        expect(first.nextAfterDid).toBe(didOf(4));
        const second = await store.registry.listAgents({ limit: 4, afterDid: didOf(4) });
        expect(second).toEqual({ agents: agents.slice(4) });
      });

      it("gives no cursor when a full page ends at the last agent", async () => {
        const agents = await seed();
        const last = await store.registry.listAgents({ limit: 3, afterDid: didOf(3) });
        expect(last).toEqual({ agents: agents.slice(3) });
      });

      it("starts strictly after a cursor that names no agent", async () => {
        const agents = await seed();
        const between = `${didOf(2)}~`;
        const page = await store.registry.listAgents({ limit: 10, afterDid: between });
        expect(didList(page.agents)).toEqual(didList(agents.slice(2)));
      });

      it("returns an empty last page after the final DID", async () => {
        await seed();
        const page = await store.registry.listAgents({ limit: 10, afterDid: didOf(6) });
        expect(page).toEqual({ agents: [] });
      });

      it.each<[string, Omit<AgentListQuery, "limit">, number[]]>([
        ["operator", { operatorDomain: "beta.example" }, [2, 4, 6]],
        ["status", { status: "suspended" }, [3, 6]],
        ["operator and status", { operatorDomain: "alpha.example", status: "active" }, [1, 5]],
        ["an operator with no agents", { operatorDomain: "nobody.example" }, []],
      ])("filters by %s across pages", async (_, filter, expected) => {
        await seed();
        const expectedDids = expected.map(didOf);
        await expect(listAll({ ...filter, limit: 1 })).resolves.toEqual(expectedDids);
        await expect(listAll({ ...filter, limit: 2 })).resolves.toEqual(expectedDids);
        await expect(listAll({ ...filter, limit: 10 })).resolves.toEqual(expectedDids);
      });

      it.each([0, -1, 2.5])("refuses limit %s", async (limit) => {
        await expect(store.registry.listAgents({ limit })).rejects.toThrow(StorePreconditionError);
      });
    });

    describe("revocations", () => {
      it("reports a revoked id until its TTL passes", async () => {
        await store.revocations.revoke("token", "jti-1", SHORT_TTL_MS);
        await expect(store.revocations.isRevoked("token", "jti-1")).resolves.toBe(true);
        await expect(store.revocations.isRevoked("token", "jti-2")).resolves.toBe(false);
        await elapse(ELAPSE_MS);
        await expect(store.revocations.isRevoked("token", "jti-1")).resolves.toBe(false);
      });

      it("never shortens a revocation when revoked again", async () => {
        await store.revocations.revoke("token", "jti-1", LONG_TTL_MS);
        await store.revocations.revoke("token", "jti-1", SHORT_TTL_MS);
        await elapse(ELAPSE_MS);
        await expect(store.revocations.isRevoked("token", "jti-1")).resolves.toBe(true);
      });

      it("extends a revocation revoked again with a longer TTL", async () => {
        await store.revocations.revoke("token", "jti-1", SHORT_TTL_MS);
        await store.revocations.revoke("token", "jti-1", LONG_TTL_MS);
        await elapse(ELAPSE_MS);
        await expect(store.revocations.isRevoked("token", "jti-1")).resolves.toBe(true);
      });

      it("refuses a non-positive ttlMs", async () => {
        await expect(store.revocations.revoke("token", "jti-1", 0)).rejects.toThrow(
          StorePreconditionError,
        );
      });

      it("keeps a revocation without a TTL for good, and never shortens it", async () => {
        await store.revocations.revoke("agent_key", "thumb-1");
        await store.revocations.revoke("agent_key", "thumb-1", SHORT_TTL_MS);
        await elapse(ELAPSE_MS);
        await expect(store.revocations.isRevoked("agent_key", "thumb-1")).resolves.toBe(true);
        await expect(store.revocations.isRevoked("token", "thumb-1")).resolves.toBe(false);
      });

      it("keeps the highest issued-until watermark and its longest life", async () => {
        await expect(store.revocations.issuedUntil("did:key:za")).resolves.toBeUndefined();
        await store.revocations.revokeIssuedUntil("did:key:za", 2_000, LONG_TTL_MS);
        await store.revocations.revokeIssuedUntil("did:key:za", 1_000, SHORT_TTL_MS);
        await expect(store.revocations.issuedUntil("did:key:za")).resolves.toBe(2_000);
        await elapse(ELAPSE_MS);
        await expect(store.revocations.issuedUntil("did:key:za")).resolves.toBe(2_000);
        await store.revocations.revokeIssuedUntil("did:key:zb", 1_700_000_000_123, SHORT_TTL_MS);
        await expect(store.revocations.issuedUntil("did:key:zb")).resolves.toBe(1_700_000_000_123);
        await elapse(ELAPSE_MS);
        await expect(store.revocations.issuedUntil("did:key:zb")).resolves.toBeUndefined();
      });
    });

    describe("issued tokens", () => {
      const issued = { sub: didOf(1), operatorDomain: "alpha.example", exp: 1_700_000_900 };

      it("tells whom a token id was issued to until its TTL passes", async () => {
        await store.issuedTokens.record("jti-1", issued, SHORT_TTL_MS);
        await expect(store.issuedTokens.get("jti-1")).resolves.toEqual(issued);
        await expect(store.issuedTokens.get("jti-2")).resolves.toBeUndefined();
        await elapse(ELAPSE_MS);
        await expect(store.issuedTokens.get("jti-1")).resolves.toBeUndefined();
      });

      it("keeps ids apart and returns a copy, never the caller's object", async () => {
        const other = { ...issued, sub: didOf(2), operatorDomain: "beta.example" };
        await store.issuedTokens.record("jti-1", issued, LONG_TTL_MS);
        await store.issuedTokens.record("jti-2", other, LONG_TTL_MS);
        const read = await store.issuedTokens.get("jti-1");
        expect(read).toEqual(issued);
        expect(read).not.toBe(issued);
        await expect(store.issuedTokens.get("jti-2")).resolves.toEqual(other);
      });

      it("refuses a non-positive ttlMs", async () => {
        await expect(store.issuedTokens.record("jti-1", issued, 0)).rejects.toThrow(
          StorePreconditionError,
        );
      });
    });

    describe("operator status", () => {
      it("sets a status, keeps revoked final, and answers undefined for an unknown domain", async () => {
        const operator = {
          domain: "alpha.example",
          displayName: "Alpha",
          status: "active" as const,
          createdAt: 1_700_000_000_000,
        };
        await store.registry.createOperator(operator);
        await expect(
          store.registry.setOperatorStatus("alpha.example", "suspended"),
        ).resolves.toEqual({ ...operator, status: "suspended" });
        await store.registry.setOperatorStatus("alpha.example", "revoked");
        await expect(store.registry.setOperatorStatus("alpha.example", "active")).resolves.toEqual({
          ...operator,
          status: "revoked",
        });
        await expect(store.registry.getOperator("alpha.example")).resolves.toEqual({
          ...operator,
          status: "revoked",
        });
        await expect(
          store.registry.setOperatorStatus("nobody.example", "revoked"),
        ).resolves.toBeUndefined();
      });
    });

    describe("operator patches", () => {
      const verification: DomainVerificationRecord = {
        token: "gh-verify-abc",
        method: "dns_txt",
        verifiedAt: T0 + 5_000,
        expiresAt: T0 + 86_400_000,
      };

      it("writes only the fields a patch sets, leaving status and the rest as stored", async () => {
        const operator = operatorRecord("alpha.example");
        await store.registry.createOperator(operator);
        await store.registry.setOperatorStatus("alpha.example", "suspended");
        const suspended = { ...operator, status: "suspended" as const };

        const verified = { ...suspended, verification };
        await expect(
          store.registry.patchOperator("alpha.example", { verification }),
        ).resolves.toEqual(verified);
        const keyed = { ...verified, publicKeyHex: "ab".repeat(32) };
        await expect(
          store.registry.patchOperator("alpha.example", { publicKeyHex: "ab".repeat(32) }),
        ).resolves.toEqual(keyed);
        const reissued = { ...keyed, verification: { token: "gh-verify-new" } };
        await expect(
          store.registry.patchOperator("alpha.example", {
            verification: { token: "gh-verify-new" },
          }),
        ).resolves.toEqual(reissued);
        await expect(store.registry.patchOperator("alpha.example", {})).resolves.toEqual(reissued);
        await expect(store.registry.getOperator("alpha.example")).resolves.toEqual(reissued);
      });

      it("answers undefined for an unknown domain and creates nothing", async () => {
        await expect(
          store.registry.patchOperator("nobody.example", { verification }),
        ).resolves.toBeUndefined();
        await expect(store.registry.getOperator("nobody.example")).resolves.toBeUndefined();
      });
    });

    describe("grants: create, get and update", () => {
      it("creates a grant and reads it back", async () => {
        const grant = grantRecord(1);
        await expect(store.grants.create(grant, 3, T0)).resolves.toBe("created");
        await expect(store.grants.get(grant.id)).resolves.toEqual(grant);
        await expect(store.grants.get("g-unknown")).resolves.toBeUndefined();
      });

      it("refuses a duplicate id and a grant that is not pending", async () => {
        await store.grants.create(grantRecord(1), 3, T0);
        await expect(store.grants.create(grantRecord(1), 3, T0)).rejects.toThrow(DuplicateIdError);
        await expect(
          store.grants.create(grantRecord(2, { state: "approved" }), 3, T0),
        ).rejects.toThrow(StorePreconditionError);
        await expect(store.grants.get(grantRecord(2).id)).resolves.toBeUndefined();
      });

      it("updates with compare-and-set: a stale revision loses", async () => {
        const grant = grantRecord(1);
        await store.grants.create(grant, 3, T0);
        const approved = {
          ...grant,
          state: "approved" as const,
          decidedAt: T0 + 10,
          decidedBy: "Ada (ap-1)",
          revision: 2,
        };
        await expect(store.grants.update(approved, 1)).resolves.toBe(true);
        const denied = { ...grant, state: "denied" as const, revision: 2 };
        await expect(store.grants.update(denied, 1)).resolves.toBe(false);
        await expect(store.grants.get(grant.id)).resolves.toEqual(approved);
      });

      it("lets exactly one of many concurrent updates from one revision win", async () => {
        const grant = grantRecord(1);
        await store.grants.create(grant, 3, T0);
        const results = await Promise.all(
          Array.from({ length: RACERS }, (_, i) =>
            store.grants.update(
              {
                ...grant,
                state: i % 2 ? "approved" : "denied",
                decidedBy: `human ${i}`,
                revision: 2,
              },
              1,
            ),
          ),
        );
        expect(count(results, true)).toBe(1);
        await expect(store.grants.get(grant.id)).resolves.toMatchObject({ revision: 2 });
      });

      it("refuses to update an unknown grant", async () => {
        await expect(store.grants.update(grantRecord(1, { revision: 2 }), 1)).resolves.toBe(false);
      });

      it.each<[string, Partial<GrantRecord>]>([
        ["a skipped revision", { revision: 3 }],
        ["another agent", { agentDid: didOf(2), revision: 2 }],
        ["another operator", { operatorDomain: "beta.example", revision: 2 }],
        ["another creation time", { createdAt: T0 + 99, revision: 2 }],
      ])("refuses an update with %s and keeps the stored grant", async (_, change) => {
        const grant = grantRecord(1);
        await store.grants.create(grant, 3, T0);
        await expect(store.grants.update({ ...grant, ...change }, 1)).rejects.toThrow(
          StorePreconditionError,
        );
        await expect(store.grants.get(grant.id)).resolves.toEqual(grant);
      });
    });

    describe("grants: pending limit", () => {
      it("creates exactly as many of many concurrent grants as fit", async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.grants.create(grantRecord(i + 1), 3, T0)),
        );
        expect(count(results, "created")).toBe(3);
        expect(count(results, "pending_limit")).toBe(17);
        // The limit is per agent.
        const other = grantRecord(100, { agentDid: didOf(2) });
        await expect(store.grants.create(other, 3, T0)).resolves.toBe("created");
      });

      it("does not count a pending grant that lapsed", async () => {
        await store.grants.create(grantRecord(1, { expiresAt: T0 + 1_000 }), 1, T0);
        await expect(store.grants.create(grantRecord(2), 1, T0 + 999)).resolves.toBe(
          "pending_limit",
        );
        await expect(store.grants.create(grantRecord(2), 1, T0 + 1_000)).resolves.toBe("created");
        await expect(store.grants.create(grantRecord(3), 1, T0 + 1_000)).resolves.toBe(
          "pending_limit",
        );
      });

      it.each(["approved", "denied", "revoked"] as const)(
        "stops counting a grant once it is %s",
        async (state) => {
          const grant = grantRecord(1);
          await store.grants.create(grant, 1, T0);
          await expect(store.grants.create(grantRecord(2), 1, T0)).resolves.toBe("pending_limit");
          await store.grants.update({ ...grant, state, revision: 2 }, 1);
          await expect(store.grants.create(grantRecord(2), 1, T0)).resolves.toBe("created");
        },
      );

      it.each([0, -1, 1.5])("refuses maxPending %s", async (maxPending) => {
        await expect(store.grants.create(grantRecord(1), maxPending, T0)).rejects.toThrow(
          StorePreconditionError,
        );
      });
    });

    describe("grants: listing", () => {
      /**
       * Grants 1..7 (ids g-0001…), inserted out of order. 6 and 7 share a creation time with
       * 5, so ids break the tie. Agents: 1, 2, 1, 2, …; domains: alpha unless n % 3 == 0;
       * states: 2 approved, 4 denied, the rest pending.
       */
      async function seed(): Promise<GrantRecord[]> {
        const grants = [1, 2, 3, 4, 5, 6, 7].map((n) =>
          grantRecord(n, {
            agentDid: didOf(n % 2 === 1 ? 1 : 2),
            operatorDomain: n % 3 === 0 ? "beta.example" : "alpha.example",
            createdAt: T0 + Math.min(n, 5),
          }),
        );
        for (const i of [3, 6, 0, 5, 1, 4, 2]) {
          await store.grants.create(grants[i] as GrantRecord, 100, T0);
        }
        for (const [n, state] of [
          [2, "approved"],
          [4, "denied"],
        ] as const) {
          const grant = grants[n - 1] as GrantRecord;
          const next = { ...grant, state, revision: 2 };
          await store.grants.update(next, 1);
          grants[n - 1] = next;
        }
        return grants;
      }

      /** Follows cursors to the end, checking every page respects the limit. */
      async function listAll(query: Omit<GrantListQuery, "cursor">): Promise<string[]> {
        const ids: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 50; pages++) {
          const page = await store.grants.list(cursor === undefined ? query : { ...query, cursor });
          expect(page.grants.length).toBeLessThanOrEqual(query.limit);
          ids.push(...page.grants.map((grant) => grant.id));
          if (page.nextCursor === undefined) return ids;
          cursor = page.nextCursor;
        }
        throw new Error("pagination did not end");
      }

      const ids = (...ns: number[]) => ns.map((n) => grantRecord(n).id);

      it("returns an empty page when there are no grants", async () => {
        await expect(store.grants.list({ limit: 10 })).resolves.toEqual({ grants: [] });
      });

      it("lists newest first, then by id descending", async () => {
        const grants = await seed();
        const newestFirst = [7, 6, 5, 4, 3, 2, 1].map((n) => grants[n - 1]);
        await expect(store.grants.list({ limit: 10 })).resolves.toEqual({ grants: newestFirst });
      });

      it("pages without duplicates or gaps, and ends without a cursor", async () => {
        await seed();
        for (const limit of [1, 2, 3, 7]) {
          await expect(listAll({ limit })).resolves.toEqual(ids(7, 6, 5, 4, 3, 2, 1));
        }
        const page = await store.grants.list({ limit: 7 });
        expect(page.nextCursor).toBeUndefined();
      });

      it("continues after its cursor when newer grants arrive between pages", async () => {
        await seed();
        const first = await store.grants.list({ limit: 3 });
        expect(first.grants.map((grant) => grant.id)).toEqual(ids(7, 6, 5));
        await store.grants.create(grantRecord(50), 100, T0);
        const rest = await store.grants.list({ limit: 10, cursor: first.nextCursor as string });
        expect(rest.grants.map((grant) => grant.id)).toEqual(ids(4, 3, 2, 1));
      });

      it.each<[string, Omit<GrantListQuery, "limit">, number[]]>([
        ["operator", { operatorDomain: "beta.example" }, [6, 3]],
        ["agent", { agentDid: didOf(2) }, [6, 4, 2]],
        ["state", { state: "pending" }, [7, 6, 5, 3, 1]],
        ["agent and operator", { agentDid: didOf(1), operatorDomain: "alpha.example" }, [7, 5, 1]],
        ["operator and state", { operatorDomain: "alpha.example", state: "denied" }, [4]],
        ["an agent with no grants", { agentDid: didOf(9) }, []],
      ])("filters by %s across pages", async (_, filter, expected) => {
        await seed();
        for (const limit of [1, 2, 10]) {
          await expect(listAll({ ...filter, limit })).resolves.toEqual(ids(...expected));
        }
      });

      it.each([0, -1, 2.5])("refuses limit %s", async (limit) => {
        await expect(store.grants.list({ limit })).rejects.toThrow(StorePreconditionError);
      });
    });

    describe("grants: denial back-off", () => {
      it("doubles the back-off with each denial, up to the cap", async () => {
        const agent = didOf(1);
        await expect(store.grants.cooldownUntil(agent)).resolves.toBeUndefined();
        for (const backoff of [1_000, 2_000, 4_000, 5_000, 5_000]) {
          await expect(store.grants.recordDenial(agent, T0, 1_000, 5_000)).resolves.toBe(
            T0 + backoff,
          );
        }
        await expect(store.grants.cooldownUntil(agent)).resolves.toBe(T0 + 5_000);
        await expect(store.grants.cooldownUntil(didOf(2))).resolves.toBeUndefined();
      });

      it("starts over after a reset", async () => {
        const agent = didOf(1);
        await store.grants.recordDenial(agent, T0, 1_000, 60_000);
        await store.grants.recordDenial(agent, T0, 1_000, 60_000);
        await store.grants.resetDenials(agent);
        await expect(store.grants.cooldownUntil(agent)).resolves.toBeUndefined();
        await expect(store.grants.recordDenial(agent, T0 + 10, 1_000, 60_000)).resolves.toBe(
          T0 + 1_010,
        );
        await store.grants.resetDenials(didOf(2));
      });

      it("counts every one of many concurrent denials", async () => {
        await Promise.all(
          Array.from({ length: 10 }, () => store.grants.recordDenial(didOf(1), T0, 1, 1_000_000)),
        );
        await expect(store.grants.cooldownUntil(didOf(1))).resolves.toBe(T0 + 2 ** 9);
      });

      it.each([
        [0, 1_000, 5_000],
        [T0, 0, 5_000],
        [T0, 1_000, 1.5],
      ])("refuses now %s, base %s, max %s", async (nowMs, baseMs, maxMs) => {
        await expect(store.grants.recordDenial(didOf(1), nowMs, baseMs, maxMs)).rejects.toThrow(
          StorePreconditionError,
        );
      });
    });

    describe("approvers", () => {
      it("creates an approver and finds it by id and by each credential", async () => {
        const approver = approverRecord("ap-1", ["cred-a", "cred-b"]);
        await expect(store.approvers.create(approver)).resolves.toBe("created");
        await expect(store.approvers.get("ap-1")).resolves.toEqual(approver);
        await expect(store.approvers.findByCredential("cred-a")).resolves.toEqual(approver);
        await expect(store.approvers.findByCredential("cred-b")).resolves.toEqual(approver);
        await expect(store.approvers.get("ap-unknown")).resolves.toBeUndefined();
        await expect(store.approvers.findByCredential("cred-unknown")).resolves.toBeUndefined();
      });

      it("reports a taken id or any taken credential id as exists, writing nothing", async () => {
        const first = approverRecord("ap-1", ["cred-a"]);
        await store.approvers.create(first);
        const sameId = approverRecord("ap-1", ["cred-z"]);
        await expect(store.approvers.create(sameId)).resolves.toBe("exists");
        const sharesCredential = approverRecord("ap-2", ["cred-new", "cred-a"]);
        await expect(store.approvers.create(sharesCredential)).resolves.toBe("exists");
        await expect(store.approvers.get("ap-1")).resolves.toEqual(first);
        await expect(store.approvers.get("ap-2")).resolves.toBeUndefined();
        await expect(store.approvers.findByCredential("cred-z")).resolves.toBeUndefined();
        await expect(store.approvers.findByCredential("cred-new")).resolves.toBeUndefined();
        await expect(store.approvers.findByCredential("cred-a")).resolves.toEqual(first);
      });

      it("creates exactly one of many concurrent approvers with one credential id", async () => {
        const results = await Promise.all(
          Array.from({ length: RACERS }, (_, i) =>
            store.approvers.create(approverRecord(`ap-${i}`, [`own-${i}`, "cred-race"])),
          ),
        );
        expect(count(results, "created")).toBe(1);
      });

      it("lists a domain's approvers oldest first, then by id", async () => {
        const late = approverRecord("ap-a", ["c-1"], { createdAt: T0 + 2 });
        const tieB = approverRecord("ap-c", ["c-2"], { createdAt: T0 + 1 });
        const tieA = approverRecord("ap-b", ["c-3"], { createdAt: T0 + 1 });
        const other = approverRecord("ap-0", ["c-4"], { operatorDomain: "beta.example" });
        for (const approver of [late, tieB, other, tieA]) await store.approvers.create(approver);
        await expect(store.approvers.listByDomain("alpha.example")).resolves.toEqual([
          tieA,
          tieB,
          late,
        ]);
        await expect(store.approvers.listByDomain("beta.example")).resolves.toEqual([other]);
        await expect(store.approvers.listByDomain("nobody.example")).resolves.toEqual([]);
      });

      it("removes an approver and keeps its credential ids reserved", async () => {
        const kept = approverRecord("ap-1", ["cred-a"]);
        const removed = approverRecord("ap-2", ["cred-b", "cred-c"], { createdAt: T0 + 1 });
        for (const approver of [kept, removed]) await store.approvers.create(approver);
        await expect(store.approvers.remove("ap-2")).resolves.toBe(true);
        await expect(store.approvers.get("ap-2")).resolves.toBeUndefined();
        await expect(store.approvers.listByDomain("alpha.example")).resolves.toEqual([kept]);
        await expect(store.approvers.findByCredential("cred-b")).resolves.toBeUndefined();
        await expect(store.approvers.findByCredential("cred-c")).resolves.toBeUndefined();
        await expect(store.approvers.findByCredential("cred-a")).resolves.toEqual(kept);
        const reuses = approverRecord("ap-3", ["cred-c"]);
        await expect(store.approvers.create(reuses)).resolves.toBe("exists");
        await expect(store.approvers.remove("ap-2")).resolves.toBe(false);
        await expect(store.approvers.remove("ap-unknown")).resolves.toBe(false);
      });

      it("removes an approver once under concurrent removals", async () => {
        await store.approvers.create(approverRecord("ap-1", ["cred-a"]));
        const results = await Promise.all(
          Array.from({ length: RACERS }, () => store.approvers.remove("ap-1")),
        );
        expect(count(results, true)).toBe(1);
      });

      it("updates one passkey's counter with compare-and-set", async () => {
        const approver = approverRecord("ap-1", ["cred-a", "cred-b"]);
        await store.approvers.create(approver);
        await expect(store.approvers.updateCounter("ap-1", "cred-a", 0, 5)).resolves.toBe(true);
        await expect(store.approvers.updateCounter("ap-1", "cred-a", 0, 6)).resolves.toBe(false);
        await expect(store.approvers.updateCounter("ap-1", "cred-a", 5, 9)).resolves.toBe(true);
        await expect(store.approvers.updateCounter("ap-1", "cred-x", 0, 1)).resolves.toBe(false);
        await expect(store.approvers.updateCounter("ap-x", "cred-a", 9, 10)).resolves.toBe(false);
        const [a, b] = approver.passkeys;
        const stored = { ...approver, passkeys: [{ ...a, counter: 9 }, b] };
        await expect(store.approvers.get("ap-1")).resolves.toEqual(stored);
        await expect(store.approvers.findByCredential("cred-b")).resolves.toEqual(stored);
        await expect(store.approvers.listByDomain("alpha.example")).resolves.toEqual([stored]);
      });

      it("keeps a passkey's empty transports list through a counter update", async () => {
        const base = approverRecord("ap-1", ["cred-a"]);
        const approver = {
          ...base,
          passkeys: base.passkeys.map((p) => ({ ...p, transports: [] })),
        };
        await store.approvers.create(approver);
        await store.approvers.updateCounter("ap-1", "cred-a", 0, 1);
        const [passkey] = approver.passkeys;
        await expect(store.approvers.get("ap-1")).resolves.toEqual({
          ...approver,
          passkeys: [{ ...passkey, counter: 1 }],
        });
      });

      it("lets exactly one of many concurrent counter updates from one value win", async () => {
        await store.approvers.create(approverRecord("ap-1", ["cred-a"]));
        const results = await Promise.all(
          Array.from({ length: RACERS }, (_, i) =>
            store.approvers.updateCounter("ap-1", "cred-a", 0, i + 1),
          ),
        );
        expect(count(results, true)).toBe(1);
        const winner = results.indexOf(true) + 1;
        const stored = await store.approvers.get("ap-1");
        expect(stored?.passkeys[0]?.counter).toBe(winner);
      });

      it.each([
        [-1, 1],
        [0, 1.5],
      ])("refuses counters %s → %s", async (expected, next) => {
        await store.approvers.create(approverRecord("ap-1", ["cred-a"]));
        await expect(
          store.approvers.updateCounter("ap-1", "cred-a", expected, next),
        ).rejects.toThrow(StorePreconditionError);
      });
    });

    describe("sessions", () => {
      const value = { approverId: "ap-1", csrf: "t-1", scopes: ["grants"] };

      it("reads a session back until it is deleted", async () => {
        await store.sessions.put("s-1", value, LONG_TTL_MS);
        await expect(store.sessions.get("s-1")).resolves.toEqual(value);
        await expect(store.sessions.get("s-1")).resolves.toEqual(value);
        await store.sessions.delete("s-1");
        await expect(store.sessions.get("s-1")).resolves.toBeUndefined();
        await store.sessions.delete("s-unknown");
        await expect(store.sessions.get("s-unknown")).resolves.toBeUndefined();
      });

      it("replaces a session put again under its id", async () => {
        await store.sessions.put("s-1", value, SHORT_TTL_MS);
        await store.sessions.put("s-1", "replaced", LONG_TTL_MS);
        await elapse(ELAPSE_MS);
        await expect(store.sessions.get("s-1")).resolves.toBe("replaced");
      });

      it("forgets a session once its TTL passed", async () => {
        await store.sessions.put("short", value, SHORT_TTL_MS);
        await store.sessions.put("long", value, LONG_TTL_MS);
        await elapse(ELAPSE_MS);
        await expect(store.sessions.get("short")).resolves.toBeUndefined();
        await expect(store.sessions.get("long")).resolves.toEqual(value);
      });

      it("refuses a non-positive ttlMs and a value JSON cannot carry", async () => {
        await expect(store.sessions.put("s-1", value, 0)).rejects.toThrow(StorePreconditionError);
        await expect(store.sessions.put("s-1", undefined, LONG_TTL_MS)).rejects.toThrow(
          StorePreconditionError,
        );
      });
    });

    describe("invalidation bus", () => {
      it("delivers a published event to every subscriber before publish resolves", async () => {
        const seen: unknown[] = [];
        const other: unknown[] = [];
        const unsubscribe = await store.events.subscribe((event) => seen.push(event));
        await store.events.subscribe((event) => other.push(event));
        await store.events.publish({ kind: "token", id: "jti-1" });
        expect(seen).toContainEqual({ kind: "token", id: "jti-1" });
        expect(other).toContainEqual({ kind: "token", id: "jti-1" });
        unsubscribe();
        await store.events.publish({ kind: "agent", did: "did:key:za" });
        expect(seen).not.toContainEqual({ kind: "agent", did: "did:key:za" });
        expect(other).toContainEqual({ kind: "agent", did: "did:key:za" });
      });

      it("delivers grant events", async () => {
        const seen: unknown[] = [];
        await store.events.subscribe((event) => seen.push(event));
        await store.events.publish({ kind: "grant", id: "g-1" });
        expect(seen).toContainEqual({ kind: "grant", id: "g-1" });
      });
    });

    describe("signing keys", () => {
      it("starts empty", async () => {
        await expect(store.signingKeys.list()).resolves.toEqual([]);
      });

      it("lists keys oldest first, then by kid, whatever the insertion order", async () => {
        const newest = signingKey("k-3", T0 + 2_000);
        const oldB = signingKey("k-b", T0, T0 + 90_000);
        const oldA = signingKey("k-a", T0);
        for (const key of [newest, oldB, oldA]) await store.signingKeys.add(key);
        await expect(store.signingKeys.list()).resolves.toEqual([oldA, oldB, newest]);
      });

      it("refuses a duplicate kid and keeps the first key", async () => {
        const original = signingKey("k-1", T0);
        await store.signingKeys.add(original);
        await expect(store.signingKeys.add(signingKey("k-1", T0 + 5))).rejects.toThrow(
          DuplicateIdError,
        );
        await expect(store.signingKeys.list()).resolves.toEqual([original]);
      });
    });

    describe("rate limits", () => {
      /** Long enough to wait out partly in real time, with margin for slow machines. */
      const WINDOW_MS = 600;

      it("allows `limit` hits in a window, then refuses with a retry delay", async () => {
        for (const remaining of [2, 1, 0]) {
          await expect(store.rateLimits.hit("k", 3, LONG_TTL_MS)).resolves.toEqual({
            allowed: true,
            remaining,
            retryAfterMs: 0,
          });
        }
        const refused = await store.rateLimits.hit("k", 3, LONG_TTL_MS);
        expect(refused).toMatchObject({ allowed: false, remaining: 0 });
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(LONG_TTL_MS);
      });

      it("slides: each hit leaves the window on its own, when retryAfterMs said", async () => {
        await expect(store.rateLimits.hit("k", 2, WINDOW_MS)).resolves.toMatchObject({
          allowed: true,
        });
        await elapse(WINDOW_MS / 2);
        await expect(store.rateLimits.hit("k", 2, WINDOW_MS)).resolves.toMatchObject({
          allowed: true,
        });
        const refused = await store.rateLimits.hit("k", 2, WINDOW_MS);
        expect(refused.allowed).toBe(false);
        // The first hit leaves the window half a window from now (less the time spent).
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS / 2);

        await elapse(refused.retryAfterMs + 50);
        await expect(store.rateLimits.hit("k", 2, WINDOW_MS)).resolves.toMatchObject({
          allowed: true,
          remaining: 0,
        });
        // The second hit is still in the window.
        await expect(store.rateLimits.hit("k", 2, WINDOW_MS)).resolves.toMatchObject({
          allowed: false,
        });
      });

      it("allows everything again once the whole window passed", async () => {
        await store.rateLimits.hit("k", 1, SHORT_TTL_MS);
        await expect(store.rateLimits.hit("k", 1, SHORT_TTL_MS)).resolves.toMatchObject({
          allowed: false,
        });
        await elapse(ELAPSE_MS);
        await expect(store.rateLimits.hit("k", 1, SHORT_TTL_MS)).resolves.toMatchObject({
          allowed: true,
        });
      });

      it("weighs hits by cost and records nothing for a refused one", async () => {
        await expect(store.rateLimits.hit("k", 3, LONG_TTL_MS, 2)).resolves.toMatchObject({
          allowed: true,
          remaining: 1,
        });
        const refused = await store.rateLimits.hit("k", 3, LONG_TTL_MS, 2);
        expect(refused).toMatchObject({ allowed: false, remaining: 1 });
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        await expect(store.rateLimits.hit("k", 3, LONG_TTL_MS)).resolves.toMatchObject({
          allowed: true,
          remaining: 0,
        });
      });

      it("allows exactly `limit` of many concurrent hits", async () => {
        const results = await Promise.all(
          Array.from({ length: RACERS }, () => store.rateLimits.hit("race", 10, LONG_TTL_MS)),
        );
        const allowed = results.map((result) => result.allowed);
        expect(count(allowed, true)).toBe(10);
        expect(count(allowed, false)).toBe(RACERS - 10);
      });

      it("keeps keys apart", async () => {
        await store.rateLimits.hit("a:1", 1, LONG_TTL_MS);
        await expect(store.rateLimits.hit("a:1", 1, LONG_TTL_MS)).resolves.toMatchObject({
          allowed: false,
        });
        await expect(store.rateLimits.hit("a:2", 1, LONG_TTL_MS)).resolves.toMatchObject({
          allowed: true,
        });
        await expect(store.rateLimits.hit("b:1", 1, LONG_TTL_MS)).resolves.toMatchObject({
          allowed: true,
        });
      });

      it("hitEach counts each limit on its own, in order, sharing `hit`'s logs", async () => {
        const both = [
          { key: "one", limit: 1, windowMs: LONG_TTL_MS },
          { key: "two", limit: 2, windowMs: LONG_TTL_MS },
        ];
        await expect(store.rateLimits.hitEach(both)).resolves.toEqual([
          { allowed: true, remaining: 0, retryAfterMs: 0 },
          { allowed: true, remaining: 1, retryAfterMs: 0 },
        ]);
        // "one" refuses; "two" still counts this attempt.
        const [refused, allowed] = await store.rateLimits.hitEach(both);
        expect(refused).toMatchObject({ allowed: false, remaining: 0 });
        expect(refused?.retryAfterMs).toBeGreaterThan(0);
        expect(refused?.retryAfterMs).toBeLessThanOrEqual(LONG_TTL_MS);
        expect(allowed).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
        await expect(store.rateLimits.hit("two", 2, LONG_TTL_MS)).resolves.toMatchObject({
          allowed: false,
        });
        await expect(store.rateLimits.hitEach([])).resolves.toEqual([]);
      });

      it("hitEach counts a key named twice one hit after the other, costs included", async () => {
        const hit = { key: "k", limit: 3, windowMs: LONG_TTL_MS };
        const results = await store.rateLimits.hitEach([{ ...hit, cost: 2 }, hit, hit]);
        expect(results.map((result) => [result.allowed, result.remaining])).toEqual([
          [true, 1],
          [true, 0],
          [false, 0],
        ]);
      });

      it("hitEach allows exactly `limit` of many concurrent calls, per limit", async () => {
        const results = await Promise.all(
          Array.from({ length: RACERS }, () =>
            store.rateLimits.hitEach([
              { key: "race:a", limit: 10, windowMs: LONG_TTL_MS },
              { key: "race:b", limit: 5, windowMs: LONG_TTL_MS },
            ]),
          ),
        );
        expect(
          count(
            results.map(([a]) => a?.allowed),
            true,
          ),
        ).toBe(10);
        expect(
          count(
            results.map(([, b]) => b?.allowed),
            true,
          ),
        ).toBe(5);
      });

      it("hitEach refuses a call with one bad hit and counts none of it", async () => {
        await expect(
          store.rateLimits.hitEach([
            { key: "fine", limit: 1, windowMs: LONG_TTL_MS },
            { key: "a{b}", limit: 1, windowMs: LONG_TTL_MS },
          ]),
        ).rejects.toThrow(StorePreconditionError);
        await expect(store.rateLimits.hit("fine", 1, LONG_TTL_MS)).resolves.toMatchObject({
          allowed: true,
        });
      });

      it.each([
        ["an empty key", "", 1, 1_000, 1],
        ["a key with a brace", "a{b}", 1, 1_000, 1],
        ["a key with a space", "a b", 1, 1_000, 1],
        ["a zero limit", "k", 0, 1_000, 1],
        ["a fractional window", "k", 1, 1.5, 1],
        ["a zero cost", "k", 1, 1_000, 0],
        ["a cost above the limit", "k", 2, 1_000, 3],
      ])("refuses %s", async (_, key, limit, windowMs, cost) => {
        await expect(store.rateLimits.hit(key, limit, windowMs, cost)).rejects.toThrow(
          StorePreconditionError,
        );
      });
    });

    describe("envelopes: budgets and freezes", () => {
      it("spends while the total stays within the limit, and a refusal spends nothing", async () => {
        await expect(store.envelopes.spend("b", 60, 100, LONG_TTL_MS)).resolves.toEqual({
          allowed: true,
          spent: 60,
        });
        await expect(store.envelopes.spend("b", 50, 100, LONG_TTL_MS)).resolves.toEqual({
          allowed: false,
          spent: 60,
        });
        await expect(store.envelopes.spend("b", 40, 100, LONG_TTL_MS)).resolves.toEqual({
          allowed: true,
          spent: 100,
        });
        await expect(store.envelopes.spend("b", 0, 100, LONG_TTL_MS)).resolves.toEqual({
          allowed: true,
          spent: 100,
        });
        await expect(store.envelopes.spend("b", 1, 100, LONG_TTL_MS)).resolves.toEqual({
          allowed: false,
          spent: 100,
        });
      });

      it("allows exactly as many concurrent spends as fit", async () => {
        const results = await Promise.all(
          Array.from({ length: RACERS }, () => store.envelopes.spend("race", 10, 100, LONG_TTL_MS)),
        );
        expect(
          count(
            results.map((result) => result.allowed),
            true,
          ),
        ).toBe(10);
        await expect(store.envelopes.spend("race", 1, 100, LONG_TTL_MS)).resolves.toEqual({
          allowed: false,
          spent: 100,
        });
      });

      it("keeps the first spend's expiry and starts over once it passed", async () => {
        await store.envelopes.spend("b", 10, 10, SHORT_TTL_MS);
        await expect(store.envelopes.spend("b", 1, 10, LONG_TTL_MS)).resolves.toMatchObject({
          allowed: false,
        });
        await elapse(ELAPSE_MS);
        await expect(store.envelopes.spend("b", 10, 10, SHORT_TTL_MS)).resolves.toEqual({
          allowed: true,
          spent: 10,
        });
      });

      it("keeps budget keys apart", async () => {
        await store.envelopes.spend("a:1", 5, 5, LONG_TTL_MS);
        await expect(store.envelopes.spend("a:2", 5, 5, LONG_TTL_MS)).resolves.toMatchObject({
          allowed: true,
        });
      });

      it("freezes for the TTL, and freezing again never shortens it", async () => {
        await expect(store.envelopes.isFrozen("agent")).resolves.toBe(false);
        await store.envelopes.freeze("agent", LONG_TTL_MS);
        await store.envelopes.freeze("agent", SHORT_TTL_MS);
        await store.envelopes.freeze("short", SHORT_TTL_MS);
        await expect(store.envelopes.isFrozen("agent")).resolves.toBe(true);
        await expect(store.envelopes.isFrozen("short")).resolves.toBe(true);
        await expect(store.envelopes.isFrozen("other")).resolves.toBe(false);
        await elapse(ELAPSE_MS);
        await expect(store.envelopes.isFrozen("agent")).resolves.toBe(true);
        await expect(store.envelopes.isFrozen("short")).resolves.toBe(false);
      });

      it.each([
        ["an empty key", "", 1, 1, 1_000],
        ["a key with a brace", "a{b}", 1, 1, 1_000],
        ["a negative amount", "k", -1, 1, 1_000],
        ["a fractional amount", "k", 1.5, 2, 1_000],
        ["an unsafe limit", "k", 1, 2 ** 53, 1_000],
        ["a zero ttl", "k", 1, 1, 0],
      ])("refuses to spend with %s", async (_, key, amount, limit, ttlMs) => {
        await expect(store.envelopes.spend(key, amount, limit, ttlMs)).rejects.toThrow(
          StorePreconditionError,
        );
      });

      it("refuses a bad freeze key or ttl", async () => {
        await expect(store.envelopes.freeze("a}", 1_000)).rejects.toThrow(StorePreconditionError);
        await expect(store.envelopes.freeze("k", 0)).rejects.toThrow(StorePreconditionError);
        await expect(store.envelopes.isFrozen("")).rejects.toThrow(StorePreconditionError);
      });
    });

    describe("audit log", () => {
      const hashOf = (n: number) => n.toString(16).padStart(64, "0");
      const APPENDED = { status: "appended" };
      const conflictOn = (head: AuditHead | undefined) => ({ status: "conflict", head });
      const entry = (seq: number, prevHash = seq === 1 ? "0".repeat(64) : hashOf(seq - 1)) => ({
        seq,
        prevHash,
        hash: hashOf(seq),
        event: Buffer.from(`event ${seq}`).toString("base64"),
        signature: "c2ln",
      });

      it("starts empty", async () => {
        await expect(store.audit.head()).resolves.toBeUndefined();
        await expect(store.audit.read(0, 10)).resolves.toEqual([]);
      });

      it("appends only onto the current head, in order; a refusal names the head", async () => {
        await expect(store.audit.append([entry(2)])).resolves.toEqual(conflictOn(undefined));
        await expect(store.audit.append([entry(1)])).resolves.toEqual(APPENDED);
        const one = { seq: 1, hash: hashOf(1) };
        await expect(store.audit.append([entry(1)])).resolves.toEqual(conflictOn(one));
        await expect(store.audit.append([entry(2, hashOf(9))])).resolves.toEqual(conflictOn(one));
        await expect(store.audit.append([entry(2)])).resolves.toEqual(APPENDED);
        await expect(store.audit.append([entry(3)])).resolves.toEqual(APPENDED);
        await expect(store.audit.head()).resolves.toEqual({ seq: 3, hash: hashOf(3) });
        await expect(store.audit.read(0, 10)).resolves.toEqual([entry(1), entry(2), entry(3)]);
        await expect(store.audit.read(1, 1)).resolves.toEqual([entry(2)]);
        await expect(store.audit.read(3, 10)).resolves.toEqual([]);
      });

      it("appends a batch whole, in one call, onto the current head", async () => {
        const unsigned = (seq: number) => ({ ...entry(seq), signature: "" });
        await expect(store.audit.append([unsigned(1), unsigned(2), entry(3)])).resolves.toEqual(
          APPENDED,
        );
        await expect(store.audit.head()).resolves.toEqual({ seq: 3, hash: hashOf(3) });
        // A batch on a stale head stores none of its entries.
        await expect(store.audit.append([unsigned(3), entry(4)])).resolves.toEqual(
          conflictOn({ seq: 3, hash: hashOf(3) }),
        );
        await expect(store.audit.append([unsigned(4), unsigned(5), entry(6)])).resolves.toEqual(
          APPENDED,
        );
        await expect(store.audit.read(0, 10)).resolves.toEqual([
          unsigned(1),
          unsigned(2),
          entry(3),
          unsigned(4),
          unsigned(5),
          entry(6),
        ]);
        await expect(store.audit.head()).resolves.toEqual({ seq: 6, hash: hashOf(6) });
      });

      it("lets exactly one of many racing batches extend a head", async () => {
        const results = await Promise.all(
          Array.from({ length: RACERS }, (_, i) =>
            store.audit.append([
              { ...entry(1), signature: "" },
              { ...entry(2), hash: hashOf(100 + i) },
            ]),
          ),
        );
        expect(results.filter((result) => result.status === "appended")).toHaveLength(1);
        await expect(store.audit.read(0, 100)).resolves.toHaveLength(2);
      });

      it("lets exactly one of many racing appends extend a head", async () => {
        const results = await Promise.all(
          Array.from({ length: RACERS }, (_, i) =>
            store.audit.append([{ ...entry(1), hash: hashOf(100 + i) }]),
          ),
        );
        expect(results.filter((result) => result.status === "appended")).toHaveLength(1);
        await expect(store.audit.read(0, 100)).resolves.toHaveLength(1);
      });

      it("prunes through an entry only when it has the given hash", async () => {
        for (let seq = 1; seq <= 5; seq++) await store.audit.append([entry(seq)]);
        await expect(store.audit.base()).resolves.toBeUndefined();
        await expect(store.audit.prune({ seq: 3, hash: hashOf(9) })).resolves.toBe("conflict");
        await expect(store.audit.prune({ seq: 6, hash: hashOf(6) })).resolves.toBe("conflict");
        await expect(store.audit.read(0, 10)).resolves.toHaveLength(5);
        await expect(store.audit.prune({ seq: 3, hash: hashOf(3) })).resolves.toBe("pruned");
        await expect(store.audit.base()).resolves.toEqual({ seq: 3, hash: hashOf(3) });
        // Reads count sequences: from before the base they start at the base.
        await expect(store.audit.read(0, 10)).resolves.toEqual([entry(4), entry(5)]);
        await expect(store.audit.read(4, 10)).resolves.toEqual([entry(5)]);
        await expect(store.audit.head()).resolves.toEqual({ seq: 5, hash: hashOf(5) });
        // Pruned entries cannot be pruned again.
        await expect(store.audit.prune({ seq: 2, hash: hashOf(2) })).resolves.toBe("conflict");
        await expect(store.audit.prune({ seq: 3, hash: hashOf(3) })).resolves.toBe("conflict");
        await expect(store.audit.append([entry(6)])).resolves.toEqual(APPENDED);
        await expect(store.audit.read(5, 10)).resolves.toEqual([entry(6)]);
      });

      it("keeps the head when pruned through its last entry, and appends on it", async () => {
        for (let seq = 1; seq <= 2; seq++) await store.audit.append([entry(seq)]);
        await expect(store.audit.prune({ seq: 2, hash: hashOf(2) })).resolves.toBe("pruned");
        await expect(store.audit.read(0, 10)).resolves.toEqual([]);
        await expect(store.audit.head()).resolves.toEqual({ seq: 2, hash: hashOf(2) });
        // Pruned through the head: a refusal still names it.
        await expect(store.audit.append([entry(1)])).resolves.toEqual(
          conflictOn({ seq: 2, hash: hashOf(2) }),
        );
        await expect(store.audit.append([entry(3)])).resolves.toEqual(APPENDED);
        await expect(store.audit.read(0, 10)).resolves.toEqual([entry(3)]);
      });

      it("keeps the first audit key stored", async () => {
        const first = { kid: "k-1", privateKeyPem: "pem-1", createdAt: T0 };
        await expect(store.audit.key(first)).resolves.toEqual(first);
        const second = { kid: "k-2", privateKeyPem: "pem-2", createdAt: T0 + 1 };
        await expect(store.audit.key(second)).resolves.toEqual(first);
      });
    });
  });
}
