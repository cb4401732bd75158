import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  Authorization,
  CheckRequestSchema,
} from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { type AuditEntry, AuditEventType, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { verifyOffline } from "../../src/cli/manage/audit-offline.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { useGatehouse } from "../support/fixture.js";
import { login } from "../support/flows.js";
import { STORE_KINDS, useRedis } from "../support/stores.js";

const DENIED_VERIFIES = 5_000;
const DENIED_CHECKS = 500;
const CONCURRENCY = 32;

/** Runs `count` calls, `CONCURRENCY` at a time. */
async function flood(count: number, call: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await call(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

/** Three kinds of bad token, in turn: garbage, a forged signature, a foreign audience. */
function badTokens(token: string) {
  const [header, payload] = token.split(".");
  return [
    { reason: Reason.TOKEN_MALFORMED, token: () => `garbage-${randomBytes(8).toString("hex")}` },
    {
      reason: Reason.TOKEN_BAD_SIGNATURE,
      token: () => `${header}.${payload}.${randomBytes(64).toString("base64url")}`,
    },
    { reason: Reason.TOKEN_AUDIENCE_MISMATCH, token: () => token },
  ] as const;
}

describe.each(STORE_KINDS)("Denials in the audit log (%s store)", (storeKind) => {
  const redisUrl = useRedis();
  const fixture = useGatehouse({ storeKind, redisUrl });

  /** Every entry after sequence `after`, all pages, once queued denials are written. */
  async function entriesAfter(after: bigint): Promise<AuditEntry[]> {
    await fixture.gh.app.audit.flush();
    const client = createGrpcClient(AuditService, {
      address: fixture.gh.grpcAddress,
      tls: fixture.agent.adminTls,
    });
    try {
      const entries: AuditEntry[] = [];
      let next = after;
      do {
        const page = await client.listAuditEvents({ pageSize: 500, afterSequence: next });
        entries.push(...page.entries);
        next = page.nextAfterSequence;
      } while (next !== 0n);
      // The chain verifies on the server, and walked in the client (`audit verify --offline`).
      expect((await client.verifyAuditChain({})).ok).toBe(true);
      const offline = await verifyOffline(client, { anchors: [], pinned: [], entriesOnly: false });
      expect(offline).toMatchObject({ ok: true, entriesChecked: after + BigInt(entries.length) });
      return entries;
    } finally {
      client.close();
    }
  }

  it("5,000 denied Verifies fold into a few chained entries that count every one", async () => {
    const { gh, agent, clients, verifier } = fixture;
    const token = await login(clients.gate, agent);
    const before = BigInt((await entriesAfter(0n)).length);
    const kinds = badTokens(token);
    const sent = new Map<Reason, number>();
    await flood(DENIED_VERIFIES, async (n) => {
      const kind = kinds[n % kinds.length];
      if (!kind) return;
      const answer = await verifier.verify.verify({
        token: kind.token(),
        audience: "https://elsewhere.example",
      });
      expect(answer).toMatchObject({ allowed: false, reason: kind.reason });
      sent.set(kind.reason, (sent.get(kind.reason) ?? 0) + 1);
    });

    const added = await entriesAfter(before);
    // One entry per reason (the caller is one verifier), two if a window closed meanwhile.
    expect(added.length).toBeLessThanOrEqual(2 * kinds.length);
    const events = added.map((entry) => entry.event);
    for (const event of events) {
      expect(event).toMatchObject({
        type: AuditEventType.DENIALS_FOLDED,
        actorRole: "verifier",
        actorFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
        denials: { denied: AuditEventType.VERIFY_DENIED, overflow: false },
      });
    }
    const folded = (reason: Reason) =>
      events
        .filter((event) => event?.reason === reason)
        .reduce((sum, event) => sum + Number(event?.denials?.count ?? 0n), 0);
    expect(events.reduce((sum, e) => sum + Number(e?.denials?.count ?? 0n), 0)).toBe(
      DENIED_VERIFIES,
    );
    for (const [reason, count] of sent) expect(folded(reason)).toBe(count);
    // The agent is named where the token's claims were verified, never from a forged token.
    const named = events.filter((event) => event?.subjectDid !== "");
    expect(named.map((event) => event?.reason)).toEqual(
      named.map(() => Reason.TOKEN_AUDIENCE_MISMATCH),
    );
    expect(named[0]).toMatchObject({ subjectDid: agent.did, operatorDomain: agent.domain });
    expect(gh.logs.join("")).not.toContain("folded denials failed");
  });

  it("denied Checks fold the same way, apart from Verify's", async () => {
    const { gh, agent } = fixture;
    const before = BigInt((await entriesAfter(0n)).length);
    const authz = createGrpcClient(Authorization, {
      address: gh.grpcAddress,
      tls: agent.verifierTls,
    });
    try {
      await flood(DENIED_CHECKS, async () => {
        const host = "api.example.com";
        const response = await authz.check(
          create(CheckRequestSchema, {
            attributes: {
              request: {
                http: {
                  method: "GET",
                  path: "/orders",
                  host,
                  headers: { host, authorization: `Bearer junk-${randomBytes(6).toString("hex")}` },
                },
              },
            },
          }),
        );
        expect(response.httpResponse.case).toBe("deniedResponse");
      });
    } finally {
      authz.close();
    }
    const added = await entriesAfter(before);
    expect(added.length).toBeLessThanOrEqual(2);
    expect(added.map((entry) => entry.event?.denials?.denied)).toEqual(
      added.map(() => AuditEventType.CHECK_DENIED),
    );
    const total = added.reduce((sum, e) => sum + Number(e.event?.denials?.count ?? 0n), 0);
    expect(total).toBe(DENIED_CHECKS);
  });
});
