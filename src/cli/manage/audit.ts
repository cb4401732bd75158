import { toJson } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Command } from "commander";
import {
  AuditEntrySchema,
  AuditEventType,
  AuditService,
  VerifyAuditChainResponseSchema,
} from "../../../gen/gatehouse/v1/audit_pb.js";
import { CliFailure, EXIT_FAILURE, EXIT_USAGE, printMessage } from "../output.js";
import {
  anchorOf,
  archiveChain,
  listedEntries,
  parseAnchor,
  verifyOffline,
} from "./audit-offline.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";

const DEFAULT_CERT = "admin";

interface ListFlags extends ConnectionFlags {
  readonly type?: string[];
  readonly did?: string;
  readonly domain?: string;
  readonly since?: string;
  readonly until?: string;
  readonly after?: string;
  readonly limit?: string;
}

/** `gatehouse audit`: read and verify the hash-chained audit log. */
export function auditCommand(): Command {
  return new Command("audit")
    .description("read and verify the audit log (admin certificate; operators may list)")
    .addCommand(verifyCommand())
    .addCommand(listCommand())
    .addCommand(archiveCommand());
}

interface VerifyFlags extends ConnectionFlags {
  readonly offline?: boolean;
  readonly entriesOnly?: boolean;
  readonly anchor?: string[];
  readonly auditKey?: string[];
  readonly archive?: string[];
}

/**
 * Exit 0 when the chain verifies, 1 when it is broken (the verdict says where and why). On
 * success, the anchor to record for next time goes to stderr.
 */
function verifyCommand(): Command {
  const verify = new Command("verify")
    .description("walk the whole audit chain: hashes, signatures, sequence; exit 1 when broken")
    .option(
      "--offline",
      "walk it here, on the listed entries and the published keys (admin certificate)",
    )
    .option(
      "--anchor <sequence:hash...>",
      "the chain must still have this hash at this sequence (a head recorded earlier; repeatable)",
    )
    .option("--audit-key <id...>", "with --offline: trust only these audit key ids (repeatable)")
    .option(
      "--entries-only",
      "with --offline: check each listed entry on its own, not the chain (operators: own domain)",
    )
    .option(
      "--archive <file...>",
      "with --offline: walk these archived segments first, in order, then the live log after them",
    );
  return withConnectionOptions(verify, DEFAULT_CERT).action(async (flags: VerifyFlags) => {
    const anchors = (flags.anchor ?? []).map(parseAnchor);
    if ((flags.auditKey || flags.entriesOnly || flags.archive) && !flags.offline) {
      throw new CliFailure("--audit-key, --entries-only and --archive need --offline", EXIT_USAGE);
    }
    if (flags.entriesOnly && (anchors.length > 0 || flags.archive)) {
      throw new CliFailure(
        "--anchor and --archive need the chain: not with --entries-only",
        EXIT_USAGE,
      );
    }
    const verdict = await withClient(AuditService, flags, DEFAULT_CERT, (client) =>
      flags.offline
        ? verifyOffline(client, {
            anchors,
            pinned: flags.auditKey ?? [],
            entriesOnly: flags.entriesOnly ?? false,
            archives: flags.archive ?? [],
          })
        : client.verifyAuditChain({
            anchors: anchors.map(({ sequence, hash }) => ({
              sequence: BigInt(sequence),
              hash: Buffer.from(hash, "hex"),
            })),
          }),
    );
    printMessage(VerifyAuditChainResponseSchema, verdict);
    if (!verdict.ok) process.exitCode = EXIT_FAILURE;
    // A chain's head (none for --entries-only, or for an empty log): the anchor to keep.
    else if (verdict.headHash.length > 0 && verdict.entriesChecked > 0n) {
      console.error(`anchor: ${anchorOf(verdict)}`);
    }
  });
}

interface ArchiveFlags extends ConnectionFlags {
  readonly out: string;
  readonly prune?: boolean;
  readonly through?: string;
  readonly auditKey?: string[];
}

/**
 * Exports the live chain's first entries, verified on the way, into a segment file that
 * `verify --offline --archive` walks and chains into the live log; with `--prune`, then
 * removes them from the live log. Exit 1 (no file) when the chain is broken; on success the
 * anchor of the segment's last entry goes to stderr.
 */
function archiveCommand(): Command {
  const archive = new Command("archive")
    .description("verify and export the chain's entries into a segment file (admin certificate)")
    .requiredOption("--out <file>", "the segment file to write (never overwritten)")
    .option("--through <sequence>", "the last sequence to archive (default: the last entry)")
    .option("--audit-key <id...>", "trust only these audit key ids (repeatable)")
    .option(
      "--prune",
      "once the segment is written and synced, remove the archived entries from the live log",
    );
  return withConnectionOptions(archive, DEFAULT_CERT).action(async (flags: ArchiveFlags) => {
    const through = flags.through === undefined ? undefined : count(flags.through);
    if (through === 0) throw new CliFailure("--through must be a sequence from 1", EXIT_USAGE);
    const verdict = await withClient(AuditService, flags, DEFAULT_CERT, (client) =>
      archiveChain(client, {
        out: flags.out,
        through,
        pinned: flags.auditKey ?? [],
        prune: flags.prune ?? false,
      }),
    );
    printMessage(VerifyAuditChainResponseSchema, verdict);
    if (!verdict.ok) process.exitCode = EXIT_FAILURE;
    else console.error(`anchor: ${anchorOf(verdict)}`);
  });
}

function listCommand(): Command {
  const list = new Command("list")
    .description("list audit events in sequence order, as JSON lines")
    .option("--type <type...>", "only these event types, e.g. TOKEN_ISSUED (repeatable)")
    .option("--did <did>", "only events about this agent")
    .option("--domain <domain>", "only events about this operator domain")
    .option("--since <time>", "only events at or after this time (ISO 8601)")
    .option("--until <time>", "only events before this time (ISO 8601)")
    .option("--after <sequence>", "start after this sequence number", "0")
    .option("--limit <n>", "stop after this many events (default: all)");
  return withConnectionOptions(list, DEFAULT_CERT).action(async (flags: ListFlags) => {
    const types = (flags.type ?? []).map(eventType);
    const limit = flags.limit === undefined ? Number.POSITIVE_INFINITY : count(flags.limit);
    const after = BigInt(count(flags.after ?? "0"));
    const filters = {
      types,
      subjectDid: flags.did ?? "",
      operatorDomain: flags.domain ?? "",
      ...(flags.since !== undefined && { startTime: timestampFromMs(time(flags.since)) }),
      ...(flags.until !== undefined && { endTime: timestampFromMs(time(flags.until)) }),
    };
    let printed = 0;
    await withClient(AuditService, flags, DEFAULT_CERT, async (client) => {
      if (limit === 0) return;
      for await (const entry of listedEntries(client, after, filters)) {
        console.log(JSON.stringify(toJson(AuditEntrySchema, entry)));
        printed += 1;
        if (printed >= limit) return;
      }
    });
  });
}

function eventType(name: string): AuditEventType {
  const key = name.toUpperCase().replace(/^AUDIT_EVENT_TYPE_/, "");
  const value = AuditEventType[key as keyof typeof AuditEventType];
  if (value === undefined || value === AuditEventType.UNSPECIFIED) {
    throw new CliFailure(`unknown audit event type ${name}`, EXIT_USAGE);
  }
  return value;
}

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new CliFailure(`not a count: ${value}`, EXIT_USAGE);
  return Number(value);
}

function time(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new CliFailure(`not an ISO 8601 time: ${value}`, EXIT_USAGE);
  return ms;
}
