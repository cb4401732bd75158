import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Where every test process records its secrets and server logs for the final scan. */
export const ARTIFACTS = join(process.cwd(), "test-artifacts");
export const SECRETS_DIR = join(ARTIFACTS, "secrets");
export const LOGS_DIR = join(ARTIFACTS, "logs");
export const AUDIT_DIR = join(ARTIFACTS, "audit-chains");

/**
 * Records secret values the tests handled (tokens, challenge ids, passes, signatures, keys)
 * in every textual form they could take in a log, so the global teardown can prove none
 * of them reached a log line (test/support/global-setup.ts).
 */
export function rememberSecret(...values: (string | Uint8Array)[]): void {
  const forms = values.flatMap((value) =>
    typeof value === "string"
      ? [value]
      : [
          Buffer.from(value).toString("base64"),
          Buffer.from(value).toString("base64url"),
          Buffer.from(value).toString("hex"),
        ],
  );
  mkdirSync(SECRETS_DIR, { recursive: true });
  appendFileSync(
    join(SECRETS_DIR, `${process.pid}.jsonl`),
    `${forms.map((f) => JSON.stringify(f)).join("\n")}\n`,
  );
}

/** Appends a server log line to this process's log file. */
export function recordLogLine(line: string): void {
  mkdirSync(LOGS_DIR, { recursive: true });
  appendFileSync(join(LOGS_DIR, `${process.pid}.log`), line.endsWith("\n") ? line : `${line}\n`);
}

/** What VerifyAuditChain answered when a test server stopped (test/support/gatehouse.ts). */
export interface AuditChainRecord {
  readonly ok: boolean;
  readonly entries: number;
  /** Set when the chain is broken, or when it could not be checked. */
  readonly detail?: string;
}

/** Appends one stopped server's audit-chain verdict, for the final scan (test/scan-logs.ts). */
export function recordAuditChain(record: AuditChainRecord): void {
  mkdirSync(AUDIT_DIR, { recursive: true });
  appendFileSync(join(AUDIT_DIR, `${process.pid}.jsonl`), `${JSON.stringify(record)}\n`);
}
