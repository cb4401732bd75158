import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { connectRedis } from "../../src/store/redis/index.js";
import { appendSealedEntries } from "../support/audit-bulk.js";
import { runCli } from "../support/cli-process.js";
import { expectReason } from "../support/errors.js";
import { enrollAgent } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

/** Entries sealed into the log before the server serves it, and how many get archived. */
const ENTRIES = 2_000;
const THROUGH = 1_500;

function tokenIssued(n: number) {
  return {
    type: AuditEventType.TOKEN_ISSUED,
    actorRole: "agent",
    actor: "did:agent:bulk.example:00000000000000000000000000000001",
    operatorDomain: "bulk.example",
    tokenId: `tok-${n}`,
    scopes: ["orders:read"],
  };
}

describe.each(STORE_KINDS)("Audit log retention: archive and prune (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  let gh: TestGatehouse;
  let adminTls: ClientTls;

  const start = (dataDir?: string) =>
    startTestGatehouse({
      storeKind,
      ...(dataDir ? { dataDir } : {}),
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });

  beforeAll(async () => {
    const first = await start();
    await enrollAgent(first);
    await first.stop();
    await appendSealedEntries(
      storeKind === "redis"
        ? { kind: "redis", url: redisUrl() }
        : { kind: "memory", dataDir: first.dataDir },
      ENTRIES,
      tokenIssued,
    );
    gh = await start(first.dataDir);
    adminTls = await gh.clientTls({ role: "admin", name: "retention" });
  }, 120_000);
  afterAll(async () => {
    await gh?.stop();
    if (gh) await rm(gh.dataDir, { recursive: true, force: true });
  });

  async function withAudit<R>(
    tls: ClientTls,
    run: (
      client: ReturnType<typeof createGrpcClient<(typeof AuditService)["method"]>>,
    ) => Promise<R>,
  ): Promise<R> {
    const client = createGrpcClient(AuditService, { address: gh.grpcAddress, tls });
    try {
      return await run(client);
    } finally {
      client.close();
    }
  }

  const auditCli = (...args: string[]) =>
    runCli(["audit", ...args, "--server", gh.grpcAddress, "--pki-dir", join(gh.dataDir, "pki")], {
      timeoutMs: 120_000,
    });

  /** Every live entry's sequence, paging from the base. */
  const liveSequences = () =>
    withAudit(adminTls, async (client) => {
      const sequences: bigint[] = [];
      let after = 0n;
      do {
        const page = await client.listAuditEvents({ pageSize: 500, afterSequence: after });
        sequences.push(...page.entries.map((entry) => entry.event?.sequence ?? 0n));
        after = page.nextAfterSequence;
      } while (after !== 0n);
      return sequences;
    });

  /** What the live log occupies: the embedded file's bytes, or the Redis list's memory. */
  const storedBytes = async (): Promise<number> => {
    if (storeKind !== "redis") return (await stat(join(gh.dataDir, "audit.log"))).size;
    const redis = connectRedis(redisUrl());
    try {
      return Number(await redis.call("MEMORY", "USAGE", "gh:{audit}:log"));
    } finally {
      redis.disconnect();
    }
  };

  it("refuses PruneAuditLog to an operator (admin only)", async () => {
    const operatorTls = await gh.clientTls({ role: "operator", domain: "bulk.example" });
    const head = await withAudit(adminTls, (client) => client.verifyAuditChain({}));
    await withAudit(operatorTls, (client) =>
      expectReason(
        client.pruneAuditLog({ throughSequence: 1n, throughHash: head.headHash }),
        Reason.PERMISSION_DENIED,
        7,
      ),
    );
  });

  it("refuses a prune whose hash is not the entry's, and changes nothing", async () => {
    const before = await liveSequences();
    const verdict = await withAudit(adminTls, (client) => client.verifyAuditChain({}));
    // The head's hash, named for another sequence: not that entry's hash.
    await withAudit(adminTls, (client) =>
      expectReason(
        client.pruneAuditLog({ throughSequence: 10n, throughHash: verdict.headHash }),
        Reason.AUDIT_PRUNE_MISMATCH,
        9,
      ),
    );
    expect(await liveSequences()).toEqual(before);
    const after = await withAudit(adminTls, (client) => client.verifyAuditChain({}));
    expect(after).toMatchObject({ ok: true, entriesChecked: verdict.entriesChecked });
    expect(after.base).toBeUndefined();
  });

  it("`audit archive --prune` removes the archived entries; the chain verifies from its base, live and offline", async () => {
    const total = (await liveSequences()).length;
    const bytesBefore = await storedBytes();
    const segment = join(gh.dataDir, "audit-1.jsonl");
    const archived = await auditCli(
      "archive",
      "--out",
      segment,
      "--through",
      String(THROUGH),
      "--prune",
    );
    expect(archived.code, archived.stderr).toBe(0);
    const anchor = new RegExp(`^anchor: ${THROUGH}:([0-9a-f]{64})$`, "m").exec(archived.stderr);
    const baseHash = anchor?.[1] ?? "";
    expect(baseHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await readFile(segment, "utf8")).trim().split("\n")).toHaveLength(THROUGH + 1);
    await gh.app.audit.flush();

    // The live log starts after the base, and the prune is on record as its own entry.
    const live = await liveSequences();
    expect(live[0]).toBe(BigInt(THROUGH + 1));
    expect(live).toHaveLength(total - THROUGH + 1);
    const bytesAfter = await storedBytes();
    console.info(
      `${storeKind}: live entries ${total} -> ${live.length}, stored bytes ${bytesBefore} -> ${bytesAfter}`,
    );
    expect(bytesAfter).toBeLessThan(bytesBefore / 2);
    const page = await withAudit(adminTls, (client) =>
      client.listAuditEvents({ types: [AuditEventType.AUDIT_PRUNED] }),
    );
    expect(page.base).toMatchObject({ sequence: BigInt(THROUGH) });
    expect(Buffer.from(page.base?.hash ?? []).toString("hex")).toBe(baseHash);
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]?.event?.prunedThrough?.sequence).toBe(BigInt(THROUGH));
    expect(page.entries[0]?.event?.actorRole).toBe("admin");

    // An archived sequence: a typed refusal, not a silent skip. The base itself pages on.
    await withAudit(adminTls, (client) =>
      expectReason(client.listAuditEvents({ afterSequence: 10n }), Reason.AUDIT_ARCHIVED, 9),
    );
    const fromBase = await withAudit(adminTls, (client) =>
      client.listAuditEvents({ afterSequence: BigInt(THROUGH), pageSize: 1 }),
    );
    expect(fromBase.entries[0]?.event?.sequence).toBe(BigInt(THROUGH + 1));

    // The server walks from the base (and an anchor at the base must be the base).
    const verdict = await withAudit(adminTls, (client) =>
      client.verifyAuditChain({
        anchors: [{ sequence: BigInt(THROUGH), hash: Buffer.from(baseHash, "hex") }],
      }),
    );
    expect(verdict).toMatchObject({ ok: true, entriesChecked: BigInt(live.length) });
    expect(verdict.base?.sequence).toBe(BigInt(THROUGH));
    const wrongBase = await withAudit(adminTls, (client) =>
      client.verifyAuditChain({
        anchors: [{ sequence: BigInt(THROUGH), hash: Buffer.alloc(32, 7) }],
      }),
    );
    expect(wrongBase).toMatchObject({ ok: false, brokenSequence: BigInt(THROUGH) });

    // The archived segment, then the live log from the base: one walk, end to end.
    const chained = await auditCli("verify", "--offline", "--archive", segment);
    expect(chained.code, chained.stderr).toBe(0);
    expect(JSON.parse(chained.stdout)).toMatchObject({
      ok: true,
      entriesChecked: String(THROUGH + live.length),
    });
    // Without the archive, the offline walk starts from the base the server reports.
    const fromLive = await auditCli("verify", "--offline");
    expect(fromLive.code, fromLive.stderr).toBe(0);
    expect(JSON.parse(fromLive.stdout)).toMatchObject({
      ok: true,
      entriesChecked: String(live.length),
      base: { sequence: String(THROUGH) },
    });
    const head = THROUGH + live.length;
    expect(fromLive.stderr).toMatch(new RegExp(`^anchor: ${head}:[0-9a-f]{64}$`, "m"));

    // Pruning the same point again: those entries are gone, so nothing matches.
    await withAudit(adminTls, (client) =>
      expectReason(
        client.pruneAuditLog({
          throughSequence: BigInt(THROUGH),
          throughHash: Buffer.from(baseHash, "hex"),
        }),
        Reason.AUDIT_PRUNE_MISMATCH,
      ),
    );
  }, 360_000);

  it("refuses a prune through an entry inside a batch (no signature of its own), and changes nothing", async () => {
    await gh.stop();
    await appendSealedEntries(
      storeKind === "redis"
        ? { kind: "redis", url: redisUrl() }
        : { kind: "memory", dataDir: gh.dataDir },
      3,
      tokenIssued,
      { batch: 3 },
    );
    gh = await start(gh.dataDir);
    adminTls = await gh.clientTls({ role: "admin", name: "retention" });
    const before = await withAudit(adminTls, (client) => client.verifyAuditChain({}));
    expect(before.ok).toBe(true);
    const head = Number((before.base?.sequence ?? 0n) + before.entriesChecked);
    const { entries } = await withAudit(adminTls, (client) =>
      client.listAuditEvents({ afterSequence: BigInt(head - 3) }),
    );
    expect(entries.map((entry) => entry.signature.length)).toEqual([0, 0, 64]);
    const inside = entries[1];
    await withAudit(adminTls, (client) =>
      expectReason(
        client.pruneAuditLog({
          throughSequence: inside?.event?.sequence ?? 0n,
          throughHash: inside?.hash ?? new Uint8Array(),
        }),
        Reason.AUDIT_PRUNE_MISMATCH,
        9,
      ),
    );
    const after = await withAudit(adminTls, (client) => client.verifyAuditChain({}));
    expect(after).toMatchObject({ ok: true, entriesChecked: before.entriesChecked });
    expect(after.base?.sequence).toBe(before.base?.sequence);
  }, 120_000);

  it("restarts on a pruned log and still verifies from its base", async () => {
    const before = await withAudit(adminTls, (client) => client.verifyAuditChain({}));
    await gh.stop();
    gh = await start(gh.dataDir);
    adminTls = await gh.clientTls({ role: "admin", name: "retention" });
    const after = await withAudit(adminTls, (client) => client.verifyAuditChain({}));
    expect(after).toMatchObject({ ok: true, base: { sequence: BigInt(THROUGH) } });
    expect(after.entriesChecked).toBeGreaterThanOrEqual(before.entriesChecked);
    await enrollAgent(gh);
    await gh.app.audit.flush();
    await expect(
      withAudit(adminTls, (client) => client.verifyAuditChain({})),
    ).resolves.toMatchObject({ ok: true });
  }, 120_000);
});
