import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { createConnectClient, createMtlsTransport } from "../../src/client/connect-client.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { appendSealedEntries } from "../support/audit-bulk.js";
import { runCli } from "../support/cli-process.js";
import { enrollAgent } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

/** More than the ~120 entries a page of 500 could carry under the 64 KiB message limit. */
const ENTRIES = 10_000;
const MAX_MESSAGE_BYTES = 65_536;

/** A token issued to one of 50 agents: about the size of the entries a login writes. */
function tokenIssued(n: number) {
  const id = (n % 50).toString(16).padStart(32, "0");
  return {
    type: AuditEventType.TOKEN_ISSUED,
    actorRole: "agent",
    actor: `did:agent:bulk.example:${id}`,
    actorFingerprint: "5e".repeat(32),
    subjectDid: `did:agent:bulk.example:${id}`,
    operatorDomain: "bulk.example",
    tokenId: `tok-${n.toString().padStart(12, "0")}`,
    scopes: ["orders:read", "orders:write", "invoices:read"],
    audiences: ["https://api.example.com"],
  };
}

describe.each(STORE_KINDS)("Audit log of 10,000 entries (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  let gh: TestGatehouse;
  let total = 0;

  const start = (dataDir?: string) =>
    startTestGatehouse({
      storeKind,
      ...(dataDir ? { dataDir } : {}),
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
      overrides: { limits: { maxMessageBytes: MAX_MESSAGE_BYTES } },
    });

  beforeAll(async () => {
    // A first server writes a few entries of its own (and its audit key), then stops; the
    // chain is extended by 10,000 sealed entries, and the server starts again on it.
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
    const client = createGrpcClient(AuditService, {
      address: gh.grpcAddress,
      tls: await gh.clientTls({ role: "admin", name: "paging" }),
    });
    try {
      const verdict = await client.verifyAuditChain({});
      expect(verdict.ok).toBe(true);
      total = Number(verdict.entriesChecked);
    } finally {
      client.close();
    }
    expect(total).toBeGreaterThan(ENTRIES);
  }, 120_000);
  afterAll(async () => {
    await gh?.stop();
    if (gh) await rm(gh.dataDir, { recursive: true, force: true });
  });

  /**
   * The CLI against this instance with the admin certificate of its dev PKI; a walk over ten
   * thousand entries may take longer than the usual 30 s on a busy machine.
   */
  const auditCli = (...args: string[]) =>
    runCli(["audit", ...args, "--server", gh.grpcAddress, "--pki-dir", join(gh.dataDir, "pki")], {
      timeoutMs: 120_000,
    });

  it("pages are cut by size under the message limit and still reach every entry", async () => {
    const client = createGrpcClient(AuditService, {
      address: gh.grpcAddress,
      tls: await gh.clientTls({ role: "admin", name: "paging" }),
    });
    try {
      let after = 0n;
      let seen = 0;
      let pages = 0;
      do {
        const page = await client.listAuditEvents({ pageSize: 500, afterSequence: after });
        expect(page.entries.length).toBeGreaterThan(0);
        expect(page.entries[0]?.event?.sequence).toBe(after + 1n);
        seen += page.entries.length;
        pages += 1;
        after = page.nextAfterSequence;
      } while (after !== 0n);
      expect(seen).toBe(total);
      // Far more pages than 500 entries each: the size, not the count, ended them.
      expect(pages).toBeGreaterThan(total / 500);
    } finally {
      client.close();
    }
  });

  it("pages fit in Connect JSON too, whose encoding is the larger", async () => {
    const client = createConnectClient(
      AuditService,
      createMtlsTransport(
        gh.connectUrl,
        await gh.clientTls({ role: "admin", name: "paging" }),
        "connect-json",
      ),
    );
    let after = 0n;
    for (let page = 0; page < 20; page++) {
      const listed = await client.listAuditEvents({ pageSize: 500, afterSequence: after });
      expect(listed.entries.length).toBeGreaterThan(0);
      expect(listed.entries[0]?.event?.sequence).toBe(after + 1n);
      after = listed.nextAfterSequence;
    }
    expect(after).toBeGreaterThan(0n);
  });

  it("`audit list` pages through every entry, in order, without error", {
    timeout: 120_000,
  }, async () => {
    const run = await auditCli("list");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(total);
    lines.forEach((line, i) => {
      expect((JSON.parse(line) as { event: { sequence: string } }).event.sequence).toBe(
        String(i + 1),
      );
    });
  });

  it("`audit list` follows filtered pages past the scan limit, and stops at --limit", async () => {
    const did = `did:agent:bulk.example:${(1).toString(16).padStart(32, "0")}`;
    const filtered = await auditCli("list", "--did", did);
    expect(filtered.code).toBe(0);
    const subjects = filtered.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { event: { subjectDid: string } }).event.subjectDid);
    expect(subjects).toEqual(Array.from({ length: ENTRIES / 50 }, () => did));

    const limited = await auditCli("list", "--after", "100", "--limit", "150");
    expect(limited.code).toBe(0);
    const sequences = limited.stdout
      .trim()
      .split("\n")
      .map((line) => Number((JSON.parse(line) as { event: { sequence: string } }).event.sequence));
    expect(sequences).toEqual(Array.from({ length: 150 }, (_, i) => 101 + i));
  }, 240_000);

  it("`audit verify --offline` walks the whole chain and passes", {
    timeout: 120_000,
  }, async () => {
    const run = await auditCli("verify", "--offline");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, entriesChecked: String(total) });
    expect(run.stderr).toMatch(new RegExp(`^anchor: ${total}:[0-9a-f]{64}$`, "m"));
  });

  it("`audit archive` exports a verified segment; verification chains it into the live log", async () => {
    const segment = join(gh.dataDir, "audit-1.jsonl");
    const archived = await auditCli("archive", "--out", segment, "--through", "4000");
    expect(archived.code).toBe(0);
    const anchor = /^anchor: 4000:([0-9a-f]{64})$/m.exec(archived.stderr);
    expect(anchor).not.toBeNull();
    const lines = (await readFile(segment, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(4001);
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      format: "gatehouse-audit-segment/v1",
      first: 1,
      last: 4000,
      lastHash: anchor?.[1],
    });

    // The segment, then the live log from 4001: one walk, the same head as the live chain's.
    const chained = await auditCli("verify", "--offline", "--archive", segment);
    expect(chained.code).toBe(0);
    expect(JSON.parse(chained.stdout)).toMatchObject({ ok: true, entriesChecked: String(total) });

    // An archived entry edited: the walk stops at it, whatever the live log says.
    const entry = JSON.parse(lines[2_500] ?? "") as { signature: string };
    const signature = Buffer.from(entry.signature, "base64");
    signature[0] = (signature[0] ?? 0) ^ 1;
    const edited = [...lines];
    edited[2_500] = JSON.stringify({ ...entry, signature: signature.toString("base64") });
    const forged = join(gh.dataDir, "audit-1-edited.jsonl");
    await writeFile(forged, `${edited.join("\n")}\n`);
    const refused = await auditCli("verify", "--offline", "--archive", forged);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      ok: false,
      brokenSequence: "2500",
      problem: "AUDIT_CHAIN_PROBLEM_SIGNATURE_INVALID",
    });
  }, 360_000);
});
