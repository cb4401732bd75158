import { create } from "@bufbuild/protobuf";
import {
  AuditChainProblem,
  type AuditService,
  type VerifyAuditChainResponse,
  VerifyAuditChainResponseSchema,
} from "../../../gen/gatehouse/v1/audit_pb.js";
import { type ChainAnchor, ChainWalk } from "../../audit/chain.js";
import type { GrpcClient } from "../../client/grpc-client.js";
import { ed25519PublicKey } from "../../crypto/ed25519.js";
import { ed25519Thumbprint } from "../../dpop/thumbprint.js";
import { CliFailure, EXIT_FAILURE, EXIT_USAGE } from "../output.js";

type AuditClient = GrpcClient<(typeof AuditService)["method"]>;

const PAGE_SIZE = 500;

/**
 * `gatehouse audit verify --offline`: the chain walked here, not by the server. The keys
 * come from GetAuditKeys, each checked against its own name (its RFC 7638 thumbprint), and
 * only the `pinned` ones when any are given; the entries from ListAuditEvents, each checked
 * on the bytes it was hashed from (src/audit/chain.ts, the rules the server applies too).
 * What it cannot see is the store's head: entries cut from the end show only against an
 * anchor recorded before.
 */
export async function verifyOffline(
  client: AuditClient,
  anchors: readonly ChainAnchor[],
  pinned: readonly string[],
): Promise<VerifyAuditChainResponse> {
  const walk = new ChainWalk(await trustedKeys(client, pinned), anchors);
  const broken = (problem: AuditChainProblem, at: number, entries: number) =>
    create(VerifyAuditChainResponseSchema, {
      ok: false,
      entriesChecked: BigInt(entries),
      brokenSequence: BigInt(at),
      problem,
    });
  let after = 0n;
  do {
    const page = await client.listAuditEvents({ pageSize: PAGE_SIZE, afterSequence: after });
    for (const entry of page.entries) {
      const problem = walk.next({
        eventBytes: entry.eventBytes,
        hash: Buffer.from(entry.hash).toString("hex"),
        signature: entry.signature,
      });
      if (problem !== undefined) return broken(problem, walk.position + 1, walk.position + 1);
    }
    after = page.nextAfterSequence;
  } while (after !== 0n);
  const unreached = walk.unreachedAnchor();
  if (unreached !== undefined) {
    return broken(AuditChainProblem.ANCHOR_MISMATCH, unreached, walk.position);
  }
  return create(VerifyAuditChainResponseSchema, {
    ok: true,
    entriesChecked: BigInt(walk.position),
    headHash: Buffer.from(walk.headHash, "hex"),
  });
}

async function trustedKeys(client: AuditClient, pinned: readonly string[]) {
  const { keys } = await client.getAuditKeys({});
  const trusted = new Map<string, ReturnType<typeof ed25519PublicKey>>();
  for (const { keyId, publicKey } of keys) {
    if (publicKey.length !== 32 || ed25519Thumbprint(publicKey) !== keyId) {
      throw new CliFailure(`the server's audit key ${keyId} does not match its id`, EXIT_FAILURE);
    }
    if (pinned.length === 0 || pinned.includes(keyId))
      trusted.set(keyId, ed25519PublicKey(publicKey));
  }
  return trusted;
}

/**
 * `--anchor <sequence>:<hash>`: a sequence from 1 and the entry's SHA-256 hash, hex (as
 * printed after a verification) or base64 (as `head_hash` is in the JSON verdict).
 */
export function parseAnchor(value: string): ChainAnchor {
  const match = /^([1-9][0-9]{0,15}):([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/.exec(value);
  const sequence = Number(match?.[1]);
  const hashText = match?.[2] ?? "";
  const hash =
    hashText.length === 64
      ? hashText.toLowerCase()
      : Buffer.from(hashText, "base64").toString("hex");
  if (!match || !Number.isSafeInteger(sequence) || hash.length !== 64) {
    throw new CliFailure(
      `not an anchor: ${value} (expected <sequence>:<SHA-256 hash, hex or base64>)`,
      EXIT_USAGE,
    );
  }
  return { sequence, hash };
}

/** The anchor a verified chain ends at, as `--anchor` reads it. */
export function anchorOf(verdict: VerifyAuditChainResponse): string {
  return `${verdict.entriesChecked}:${Buffer.from(verdict.headHash).toString("hex")}`;
}
