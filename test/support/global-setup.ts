import { rm } from "node:fs/promises";
import { AUDIT_DIR, LOGS_DIR, SECRETS_DIR } from "./secrets.js";
import { provisionGoTools, provisionPythonTools } from "./tools.js";

/**
 * Each run starts with empty log, secret and audit records (test/scan-logs.ts reads them after)
 * and with the Go and Python tools it runs installed.
 */
export async function setup(): Promise<void> {
  await rm(LOGS_DIR, { recursive: true, force: true });
  await rm(SECRETS_DIR, { recursive: true, force: true });
  await rm(AUDIT_DIR, { recursive: true, force: true });
  await provisionGoTools();
  await provisionPythonTools();
}
