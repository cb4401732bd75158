import { rm } from "node:fs/promises";
import { AUDIT_DIR, LOGS_DIR, SECRETS_DIR } from "./secrets.js";
import { checkSystemPackages } from "./system-packages.js";
import { provisionGoTools, provisionPythonTools } from "./tools.js";

/**
 * Each run starts with the system packages it runs present (or stops at once, naming
 * `npm run setup`), empty log, secret and audit records (test/scan-logs.ts reads them after)
 * and with the Go and Python tools it runs installed.
 */
export async function setup(): Promise<void> {
  await checkSystemPackages();
  await rm(LOGS_DIR, { recursive: true, force: true });
  await rm(SECRETS_DIR, { recursive: true, force: true });
  await rm(AUDIT_DIR, { recursive: true, force: true });
  await provisionGoTools();
  await provisionPythonTools();
}
