/**
 * Target 1's "audit chain intact and verifiable": after the login and gate runs, the server's
 * own VerifyAuditChain (an admin RPC) walks the whole chain those runs wrote, every entry's
 * hash link and signature.
 */
import { AuditChainProblem, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import type { DevPki } from "../../src/pki/dev-pki.js";
import { toClientTls } from "../enroll.js";

/** How long the walk may take: it reads and verifies every entry the runs wrote. */
const CHAIN_DEADLINE_MS = 300_000;

export interface AuditChainCheck {
  readonly ok: boolean;
  readonly entriesChecked: number;
  /** When not ok: where and why the chain breaks. */
  readonly problem?: string;
}

export async function checkAuditChain(pki: DevPki, address: string): Promise<AuditChainCheck> {
  const client = createGrpcClient(AuditService, { address, tls: toClientTls(pki, pki.admin) });
  try {
    // The whole chain, every signature: ~150,000 entries after a full run (the login rounds
    // and the floors beside them), more than the client's default 10-s deadline allows.
    const verdict = await client.verifyAuditChain({}, { deadlineMs: CHAIN_DEADLINE_MS });
    const entriesChecked = Number(verdict.entriesChecked);
    if (verdict.ok) return { ok: true, entriesChecked };
    const why = AuditChainProblem[verdict.problem] ?? String(verdict.problem);
    return { ok: false, entriesChecked, problem: `broken at ${verdict.brokenSequence}: ${why}` };
  } finally {
    client.close();
  }
}
