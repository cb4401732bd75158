import { createHash, verify } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuditChainProblem,
  type AuditEntry,
  AuditEventSchema,
  AuditEventType,
  AuditService,
} from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { chainEvent } from "../../src/audit/chain.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { ed25519PublicKey } from "../../src/crypto/ed25519.js";
import { ed25519Thumbprint } from "../../src/crypto/jose/thumbprint.js";
import type { AuditRecord } from "../../src/store/ports.js";
import { connectRedis, type RedisLike } from "../../src/store/redis/index.js";
import { runCli } from "../support/cli-process.js";
import { expectReason, rejectionOf } from "../support/errors.js";
import {
  AUDIENCE,
  type Enrolled,
  enrollAgent,
  grpcClients,
  signedChallenge,
} from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const T = AuditEventType;

describe.each(STORE_KINDS)("Audit log (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  let dataDir: string;
  let gh: TestGatehouse;
  let redis: RedisLike | undefined;
  /** Every secret the flow handled: none may appear in any audit entry. */
  const secrets: string[] = [];
  let agent: Enrolled;

  const start = (dir = dataDir) =>
    startTestGatehouse({
      storeKind,
      dataDir: dir,
      tampersWithAudit: true,
      ...(storeKind === "redis" ? { redisUrl: redisUrl() } : {}),
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gatehouse-audit-"));
    gh = await start();
    if (storeKind === "redis") redis = connectRedis(redisUrl());
  });
  afterAll(async () => {
    await gh?.stop();
    await redis?.quit();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function withAudit<R>(
    tls: ClientTls,
    use: (client: ReturnType<typeof auditClient>) => Promise<R>,
  ): Promise<R> {
    const client = auditClient(gh, tls);
    try {
      return await use(client);
    } finally {
      client.close();
    }
  }

  /** Every entry after `after`, all pages, as the admin sees them. */
  async function listAll(filters: { operatorDomain?: string; after?: bigint } = {}) {
    await gh.app.audit.flush();
    return withAudit(agent.adminTls, async (client) => {
      const entries: AuditEntry[] = [];
      let after = filters.after ?? 0n;
      do {
        const page = await client.listAuditEvents({
          pageSize: 3,
          afterSequence: after,
          operatorDomain: filters.operatorDomain ?? "",
        });
        entries.push(...page.entries);
        after = page.nextAfterSequence;
      } while (after !== 0n);
      return entries;
    });
  }

  async function verifyChain() {
    await gh.app.audit.flush();
    return withAudit(agent.adminTls, (client) => client.verifyAuditChain({}));
  }

  /** The raw stored records (JSON), straight from the backing store. */
  async function rawRecords(): Promise<string[]> {
    if (redis) return redis.lrange("gh:{audit}:log", 0, -1);
    const text = await readFile(join(dataDir, "audit.log"), "utf8");
    return text.split("\n").filter((line) => line !== "");
  }

  /** Rewrites the stored records (the head stays): memory needs a restart to reload them. */
  async function writeRaw(records: string[]): Promise<void> {
    if (redis) {
      await redis.del("gh:{audit}:log");
      await redis.rpush("gh:{audit}:log", ...records);
      return;
    }
    await gh.stop();
    await writeFile(join(dataDir, "audit.log"), records.map((r) => `${r}\n`).join(""));
    gh = await start();
  }

  it("records the flow's typed events in order, without any secret", async () => {
    agent = await enrollAgent(gh);
    const agentClients = grpcClients(gh, agent.agentTls);
    const verifier = grpcClients(gh, agent.verifierTls);
    const operator = grpcClients(gh, agent.operatorTls);
    try {
      const { challengeId, signature } = await signedChallenge(agentClients.gate, agent);
      const { passToken: pass } = await agentClients.gate.submit({
        challengeId,
        answer: { case: "signature", value: { signature } },
      });
      const token = await agentClients.gate.token({ grant: { case: "passToken", value: pass } });
      rememberSecret(pass, token.accessToken);
      secrets.push(challengeId, pass, token.accessToken, Buffer.from(signature).toString("base64"));
      secrets.push(
        Buffer.from(signature).toString("hex"),
        Buffer.from(signature).toString("base64url"),
      );
      // A replayed challenge fails (audited with its reason).
      await expectReason(
        agentClients.gate.submit({
          challengeId,
          answer: { case: "signature", value: { signature } },
        }),
        Reason.CHALLENGE_ALREADY_USED,
      );
      const denied = await verifier.verify.verify({
        token: token.accessToken,
        audience: "https://elsewhere.example",
      });
      expect(denied.allowed).toBe(false);
      const jti = denied.tokenId;
      await operator.registry.revoke({ target: { case: "tokenId", value: jti }, reason: "test" });

      const entries = await listAll({ operatorDomain: agent.domain });
      expect(entries.map((e) => T[e.event?.type ?? 0])).toEqual([
        "OPERATOR_CREATED",
        "OPERATOR_DOMAIN_VERIFIED", // attested by the admin (enrollAgent)
        "AGENT_REGISTERED",
        "CHALLENGE_ISSUED",
        "PASS_ISSUED",
        "TOKEN_ISSUED",
        "CHALLENGE_FAILED",
        "TOKEN_REVOKED",
        // The denial was folded (src/audit/denials.ts): written when its window closed, here
        // when listAll flushed it.
        "DENIALS_FOLDED",
      ]);
      const byType = (type: AuditEventType) => entries.find((e) => e.event?.type === type)?.event;
      expect(byType(T.TOKEN_ISSUED)).toMatchObject({
        subjectDid: agent.did,
        tokenId: jti,
        scopes: ["orders:read"],
        audiences: [AUDIENCE],
      });
      expect(byType(T.CHALLENGE_FAILED)?.reason).toBe(Reason.CHALLENGE_ALREADY_USED);
      expect(byType(T.DENIALS_FOLDED)).toMatchObject({
        reason: Reason.TOKEN_AUDIENCE_MISMATCH,
        subjectDid: agent.did,
        actorRole: "verifier",
        denials: { denied: T.VERIFY_DENIED, count: 1n, overflow: false },
      });
      expect(byType(T.TOKEN_REVOKED)).toMatchObject({ tokenId: jti, comment: "test" });

      // Sequences are contiguous in the whole log, each entry linked to the one before.
      const all = await listAll();
      all.forEach((entry, i) => {
        expect(entry.event?.sequence).toBe(BigInt(i + 1));
        if (i > 0) expect(entry.event?.prevHash).toEqual(all[i - 1]?.hash);
      });

      // No secret in any stored entry, raw or decoded.
      const stored = await rawRecords();
      const decoded = stored.map((line) => {
        const record = JSON.parse(line) as AuditRecord;
        return JSON.stringify(
          fromBinary(AuditEventSchema, Buffer.from(record.event, "base64")),
          (_, v) =>
            typeof v === "bigint"
              ? String(v)
              : v instanceof Uint8Array
                ? Buffer.from(v).toString("hex")
                : v,
        );
      });
      const privateKeyPem = agent.key.privateKey
        .export({ format: "pem", type: "pkcs8" })
        .toString();
      for (const text of [...stored, ...decoded]) {
        for (const secret of [...secrets, privateKeyPem]) expect(text).not.toContain(secret);
        expect(text).not.toContain("PRIVATE KEY");
      }
    } finally {
      agentClients.close();
      verifier.close();
      operator.close();
    }
  });

  /**
   * History cut from the end as someone holding the store would cut it: the last batch
   * whole (back to the entry that signed the one before), the head moved back to the new
   * last entry too (the embedded store's file is its own head).
   */
  async function cutLast(records: string[]): Promise<void> {
    const kept = records.slice(0, -1);
    while (kept.length > 0 && (JSON.parse(kept.at(-1) ?? "") as AuditRecord).signature === "") {
      kept.pop();
    }
    await writeRaw(kept);
    const last = kept.at(-1);
    if (redis && last) {
      const { seq, hash } = JSON.parse(last) as AuditRecord;
      await redis.set("gh:{audit}:head", `${seq}:${hash}`);
    }
  }

  /** The CLI against this instance with the admin certificate of its dev PKI. */
  const auditCli = (...args: string[]) =>
    runCli(["audit", ...args, "--server", gh.grpcAddress, "--pki-dir", join(dataDir, "pki")]);

  it("publishes its audit key: every listed entry verifies on its own bytes, offline", async () => {
    const keys = await withAudit(agent.operatorTls, (client) => client.getAuditKeys({}));
    expect(keys.keys).toHaveLength(1);
    const [published] = keys.keys;
    if (!published) throw new Error("no audit key");
    // The id is the key's own RFC 7638 thumbprint: a client checks the name against the key.
    expect(ed25519Thumbprint(published.publicKey)).toBe(published.keyId);
    const key = ed25519PublicKey(published.publicKey)?.keyObject;
    if (!key) throw new Error("the published audit key is not a sound Ed25519 key");
    const entries = await listAll();
    expect(entries.length).toBeGreaterThan(5);
    // Signed once per batch, on its last entry: the log ends on a signature.
    expect(entries.at(-1)?.signature).toHaveLength(64);
    for (const entry of entries) {
      const hash = createHash("sha256")
        .update("GATEHOUSE-AUDIT\0v1\0")
        .update(entry.eventBytes)
        .digest();
      expect(Buffer.from(entry.hash)).toEqual(hash);
      if (entry.signature.length > 0) expect(verify(null, hash, key, entry.signature)).toBe(true);
      expect(fromBinary(AuditEventSchema, entry.eventBytes)).toEqual(entry.event);
      expect(entry.event?.auditKeyId).toBe(published.keyId);
    }
  });

  it("holds the chain to anchors recorded earlier", async () => {
    const head = await verifyChain();
    const entries = await listAll();
    const anchor = { sequence: head.entriesChecked, hash: head.headHash };
    const earlier = entries[2];
    if (!earlier?.event) throw new Error("too few entries");
    const verifyWith = (anchors: { sequence: bigint; hash: Uint8Array }[]) =>
      withAudit(agent.adminTls, (client) => client.verifyAuditChain({ anchors }));

    await expect(
      verifyWith([anchor, { sequence: earlier.event.sequence, hash: earlier.hash }]),
    ).resolves.toMatchObject({ ok: true });
    // Another entry's hash at the anchored sequence: rewritten since.
    await expect(verifyWith([{ ...anchor, hash: earlier.hash }])).resolves.toMatchObject({
      ok: false,
      brokenSequence: head.entriesChecked,
      problem: AuditChainProblem.ANCHOR_MISMATCH,
    });
    // An anchor the chain does not reach: cut since.
    const beyond = head.entriesChecked + 10n;
    await expect(verifyWith([{ sequence: beyond, hash: head.headHash }])).resolves.toMatchObject({
      ok: false,
      brokenSequence: beyond,
      problem: AuditChainProblem.ANCHOR_MISMATCH,
    });
  });

  it("refuses malformed anchors with INVALID_ARGUMENT", async () => {
    const hash = new Uint8Array(32);
    const malformed = [
      [{ sequence: 0n, hash }],
      [{ sequence: 1n, hash: new Uint8Array(31) }],
      [{ sequence: 1n, hash: new Uint8Array(0) }],
      [{ sequence: 2n ** 53n, hash }],
      [
        { sequence: 1n, hash },
        { sequence: 1n, hash },
      ],
      Array.from({ length: 65 }, (_, i) => ({ sequence: BigInt(i + 1), hash })),
    ];
    await withAudit(agent.adminTls, async (client) => {
      for (const [i, anchors] of malformed.entries()) {
        const error = await rejectionOf(client.verifyAuditChain({ anchors })).catch(
          (e: unknown) => new Error(`case ${i}: ${String(e)}`),
        );
        expect(error, `case ${i}`).toMatchObject({ reason: Reason.INVALID_ARGUMENT, code: 3 });
      }
    });
  });

  it("an anchor catches entries cut from the end, head and all", async () => {
    const original = await rawRecords();
    const head = await verifyChain();
    const anchors = [{ sequence: head.entriesChecked, hash: head.headHash }];
    try {
      await cutLast(original);
      // Consistent after the cut: only the anchor, recorded before it, tells.
      await expect(verifyChain()).resolves.toMatchObject({ ok: true });
      const verdict = await withAudit(agent.adminTls, (client) =>
        client.verifyAuditChain({ anchors }),
      );
      expect(verdict).toMatchObject({
        ok: false,
        brokenSequence: head.entriesChecked,
        problem: AuditChainProblem.ANCHOR_MISMATCH,
      });
    } finally {
      await writeRaw(original);
      if (redis)
        await redis.set(
          "gh:{audit}:head",
          `${head.entriesChecked}:${Buffer.from(head.headHash).toString("hex")}`,
        );
    }
    await expect(verifyChain()).resolves.toMatchObject({ ok: true });
  }, 60_000);

  it("shows operators only the events of their own domain", async () => {
    const other = await enrollAgent(gh);
    await gh.app.audit.flush();
    await withAudit(agent.operatorTls, async (client) => {
      const page = await client.listAuditEvents({ pageSize: 500 });
      expect(page.entries.length).toBeGreaterThan(0);
      for (const entry of page.entries) expect(entry.event?.operatorDomain).toBe(agent.domain);
      await expectReason(
        client.listAuditEvents({ operatorDomain: other.domain }),
        Reason.OPERATOR_MISMATCH,
      );
      await expectReason(client.verifyAuditChain({}), Reason.PERMISSION_DENIED);
    });
  });

  it("verifies the chain", async () => {
    const verdict = await verifyChain();
    expect(verdict).toMatchObject({ ok: true, problem: AuditChainProblem.UNSPECIFIED });
    expect(verdict.entriesChecked).toBeGreaterThan(8n);
  });

  it("resumes the chain after a restart", async () => {
    const before = await listAll();
    const last = before.at(-1);
    await gh.stop();
    gh = await start(); // memory: same data dir; redis: a new instance on the same redis
    const admin = grpcClients(gh, agent.adminTls);
    try {
      await admin.registry.createOperator({ domain: `restart-${storeKind}.example.com` });
    } finally {
      admin.close();
    }
    const [first] = await listAll({ after: last?.event?.sequence ?? 0n });
    expect(first?.event?.sequence).toBe((last?.event?.sequence ?? 0n) + 1n);
    expect(first?.event?.prevHash).toEqual(last?.hash);
    await expect(verifyChain()).resolves.toMatchObject({ ok: true });
  });

  // Defined for Redis only (not skipped elsewhere): the embedded store serves one process,
  // and its audit file is its own head, so neither case exists there (see the README).
  const redisOnly = storeKind === "redis" ? it : undefined;

  redisOnly?.("keeps one valid chain when two instances interleave writes", async () => {
    const secondDir = await mkdtemp(join(tmpdir(), "gatehouse-audit-2-"));
    const second = await start(secondDir);
    const count = (await listAll()).length;
    // Its own data dir, so its own dev CA: an admin certificate of that CA.
    const secondAdmin = await second.clientTls({ role: "admin", name: "test-admin" });
    const clients = [grpcClients(gh, agent.adminTls), grpcClients(second, secondAdmin)];
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (clients[i % 2] ?? clients[0])?.registry.createOperator({
            domain: `race-${i}.example.com`,
          }),
        ),
      );
    } finally {
      for (const c of clients) c.close();
      await second.dispose();
      await rm(secondDir, { recursive: true, force: true });
    }
    const entries = await listAll();
    expect(entries).toHaveLength(count + 20);
    await expect(verifyChain()).resolves.toMatchObject({ ok: true });
  });

  it("reports an edited, a deleted and a reordered entry at its sequence", async () => {
    const original = await rawRecords();
    expect(original.length).toBeGreaterThan(5);
    const edit = (line: string) => {
      const record = JSON.parse(line) as AuditRecord;
      const event = fromBinary(AuditEventSchema, Buffer.from(record.event, "base64"));
      const bytes = Buffer.from(record.event, "base64");
      // Flip one byte of the subject DID (the event still decodes, its hash no longer fits).
      const at = bytes.indexOf(Buffer.from(event.operatorDomain || event.actor));
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      return JSON.stringify({ ...record, event: bytes.toString("base64") });
    };
    const cases: [string, string[], AuditChainProblem][] = [
      ["edit", original.map((l, i) => (i === 2 ? edit(l) : l)), AuditChainProblem.HASH_MISMATCH],
      ["delete", original.filter((_, i) => i !== 2), AuditChainProblem.SEQUENCE_GAP],
      [
        "reorder",
        original.map((l, i) => (i === 2 ? original[3] : i === 3 ? original[2] : l) ?? l),
        AuditChainProblem.SEQUENCE_GAP,
      ],
    ];
    try {
      for (const [what, records, problem] of cases) {
        await writeRaw(records);
        const verdict = await verifyChain();
        expect(verdict, what).toMatchObject({ ok: false, brokenSequence: 3n, problem });
      }
      if (storeKind === "memory") {
        const cli = await runCli([
          ...["audit", "verify", "--server", gh.grpcAddress],
          ...["--pki-dir", join(dataDir, "pki")],
        ]);
        expect(cli.code, cli.stderr).toBe(1);
        expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, brokenSequence: "3" });
        // The same verdict walked by the client, on the listed entries and published key.
        const offline = await auditCli("verify", "--offline");
        expect(offline.code, offline.stderr).toBe(1);
        expect(JSON.parse(offline.stdout)).toMatchObject({ ok: false, brokenSequence: "3" });
      }
    } finally {
      await writeRaw(original);
    }
    await expect(verifyChain()).resolves.toMatchObject({ ok: true });
    if (storeKind === "memory") {
      const cli = await runCli([
        ...["audit", "verify", "--server", gh.grpcAddress, "--pki-dir", join(dataDir, "pki")],
      ]);
      expect(cli.code, cli.stderr).toBe(0);
    }
  }, 60_000);

  redisOnly?.(
    "refuses a chain that ends without a signature: entries appended, or the last one's signature stripped",
    async () => {
      const original = await rawRecords();
      const last = JSON.parse(original.at(-1) ?? "") as AuditRecord;
      const head = `${last.seq}:${last.hash}`;
      // Appended by someone without the audit key: hashed and linked right, head moved too.
      const forged = chainEvent(
        { type: T.OPERATOR_CREATED, operatorDomain: "forged.example" },
        {
          sequence: last.seq + 1,
          prevHash: Buffer.from(last.hash, "hex"),
          timeMs: Date.now(),
          auditKeyId: fromBinary(AuditEventSchema, Buffer.from(last.event, "base64")).auditKeyId,
        },
      );
      // Stripped, the last signature leaves its whole batch uncovered (the entries before it
      // in its batch carry none: two instances interleaved above, so batches formed).
      const signedBefore = original
        .slice(0, -1)
        .findLastIndex((line) => (JSON.parse(line) as AuditRecord).signature !== "");
      const cases: [string, string[], string, bigint][] = [
        [
          "stripped",
          [...original.slice(0, -1), JSON.stringify({ ...last, signature: "" })],
          head,
          BigInt(last.seq - (original.length - 1 - (signedBefore + 1))),
        ],
        [
          "appended",
          [...original, JSON.stringify(forged)],
          `${forged.seq}:${forged.hash}`,
          BigInt(forged.seq),
        ],
      ];
      try {
        for (const [what, records, movedHead, at] of cases) {
          await writeRaw(records);
          await redis?.set("gh:{audit}:head", movedHead);
          await expect(verifyChain(), what).resolves.toMatchObject({
            ok: false,
            brokenSequence: at,
            problem: AuditChainProblem.UNSIGNED_TAIL,
          });
          // The client's own walk refuses it too.
          const offline = await auditCli("verify", "--offline");
          expect(offline.code, offline.stderr).toBe(1);
          expect(JSON.parse(offline.stdout)).toMatchObject({
            ok: false,
            brokenSequence: String(at),
            problem: "AUDIT_CHAIN_PROBLEM_UNSIGNED_TAIL",
          });
        }
      } finally {
        await writeRaw(original);
        await redis?.set("gh:{audit}:head", head);
      }
      await expect(verifyChain()).resolves.toMatchObject({ ok: true });
    },
    60_000,
  );

  redisOnly?.("reports entries cut from the end (head mismatch)", async () => {
    const original = await rawRecords();
    try {
      await writeRaw(original.slice(0, -1));
      await expect(verifyChain()).resolves.toMatchObject({
        ok: false,
        brokenSequence: BigInt(original.length),
        problem: AuditChainProblem.HEAD_MISMATCH,
      });
    } finally {
      await writeRaw(original);
    }
  });
});

describe("gatehouse audit verify --offline (embedded store)", () => {
  let dataDir: string;
  let gh: TestGatehouse;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gatehouse-audit-offline-"));
    gh = await startTestGatehouse({ storeKind: "memory", dataDir, tampersWithAudit: true });
    await enrollAgent(gh);
    await gh.app.audit.flush();
  });
  afterAll(async () => {
    await gh?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const auditCli = (...args: string[]) =>
    runCli(["audit", ...args, "--server", gh.grpcAddress, "--pki-dir", join(dataDir, "pki")]);

  it("walks the chain in the client, prints the anchor, and holds the chain to it", async () => {
    const online = await auditCli("verify");
    const offline = await auditCli("verify", "--offline");
    expect(offline.code, offline.stderr).toBe(0);
    expect(JSON.parse(offline.stdout)).toEqual(JSON.parse(online.stdout));
    const anchor = /^anchor: (\d+:[0-9a-f]{64})$/m.exec(offline.stderr)?.[1];
    expect(anchor).toBeDefined();
    expect(online.stderr).toContain(`anchor: ${anchor}`);
    const base64 = JSON.parse(offline.stdout) as { entriesChecked: string; headHash: string };

    for (const mode of [[], ["--offline"]]) {
      const held = await auditCli("verify", ...mode, "--anchor", anchor ?? "");
      expect(held.code, held.stderr).toBe(0);
      // The JSON verdict's own form of the head (base64) works as well.
      const asPrinted = `${base64.entriesChecked}:${base64.headHash}`;
      expect((await auditCli("verify", ...mode, "--anchor", asPrinted)).code).toBe(0);
    }

    // Entries cut from the end of the file: the file is its own head, so only the anchor
    // recorded before tells, online and offline.
    const file = join(dataDir, "audit.log");
    const original = await readFile(file, "utf8");
    await gh.stop();
    await writeFile(file, `${original.trimEnd().split("\n").slice(0, -1).join("\n")}\n`);
    gh = await startTestGatehouse({ storeKind: "memory", dataDir, tampersWithAudit: true });
    try {
      expect((await auditCli("verify")).code).toBe(0);
      for (const mode of [[], ["--offline"]]) {
        const cut = await auditCli("verify", ...mode, "--anchor", anchor ?? "");
        expect(cut.code, cut.stderr).toBe(1);
        expect(JSON.parse(cut.stdout)).toMatchObject({
          ok: false,
          brokenSequence: anchor?.split(":")[0],
          problem: "AUDIT_CHAIN_PROBLEM_ANCHOR_MISMATCH",
        });
      }
    } finally {
      await gh.stop();
      await writeFile(file, original);
      gh = await startTestGatehouse({ storeKind: "memory", dataDir, tampersWithAudit: true });
    }
  }, 120_000);

  it("an operator checks its own domain's entries one by one (--entries-only)", async () => {
    const { operatorTls } = await enrollAgent(gh);
    await gh.app.audit.flush();
    const certDir = await mkdtemp(join(tmpdir(), "gatehouse-operator-cert-"));
    try {
      const cert = join(certDir, "operator.pem");
      await writeFile(cert, operatorTls.cert);
      await writeFile(join(certDir, "operator-key.pem"), operatorTls.key);
      const asOperator = ["--cert", cert];
      const each = await auditCli("verify", "--offline", "--entries-only", ...asOperator);
      expect(each.code, each.stderr).toBe(0);
      const verdict = JSON.parse(each.stdout) as { ok: boolean; entriesChecked: string };
      expect(verdict.ok).toBe(true);
      expect(Number(verdict.entriesChecked)).toBeGreaterThan(0);
      expect(each.stderr).not.toMatch(/^anchor:/m); // no chain, so no head to anchor
      // Its filtered view is not a chain: walking it as one reports the first gap.
      const chain = await auditCli("verify", "--offline", ...asOperator);
      expect(chain.code).toBe(1);
      expect(JSON.parse(chain.stdout)).toMatchObject({
        problem: "AUDIT_CHAIN_PROBLEM_SEQUENCE_GAP",
      });
    } finally {
      await rm(certDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("an empty log verifies (exit 0) and has no anchor yet", async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), "gatehouse-audit-empty-"));
    const empty = await startTestGatehouse({ storeKind: "memory", dataDir: emptyDir });
    try {
      const pki = ["--server", empty.grpcAddress, "--pki-dir", join(emptyDir, "pki")];
      const listed = await runCli(["audit", "list", ...pki]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toBe(""); // nothing recorded yet
      for (const mode of [[], ["--offline"]]) {
        const run = await runCli(["audit", "verify", ...mode, ...pki]);
        expect(run.code, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, entriesChecked: "0" });
        expect(run.stderr).not.toMatch(/^anchor:/m);
      }
    } finally {
      await empty.dispose();
      await rm(emptyDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("trusts only the pinned audit keys; bad flags exit 2", async () => {
    const pinnedOther = await auditCli("verify", "--offline", "--audit-key", "x".repeat(43));
    expect(pinnedOther.code, pinnedOther.stderr).toBe(1);
    expect(JSON.parse(pinnedOther.stdout)).toMatchObject({
      ok: false,
      brokenSequence: "1",
      problem: "AUDIT_CHAIN_PROBLEM_KEY_UNKNOWN",
    });
    for (const args of [
      ["--anchor", `0:${"0".repeat(64)}`],
      ["--anchor", "1:abc"],
      ["--anchor", "nonsense"],
      ["--audit-key", "x"], // without --offline
      ["--entries-only"], // without --offline
      ["--offline", "--entries-only", "--anchor", `1:${"0".repeat(64)}`],
    ]) {
      const run = await auditCli("verify", ...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/^error: /m);
    }
  }, 60_000);
});

function auditClient(gh: TestGatehouse, tls: ClientTls) {
  return createGrpcClient(AuditService, { address: gh.grpcAddress, tls });
}
