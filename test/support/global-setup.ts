import { rm } from "node:fs/promises";
import { LOGS_DIR, SECRETS_DIR } from "./secrets.js";

/** Each run starts with empty log and secret records; test/scan-logs.ts reads them after. */
export async function setup(): Promise<void> {
  await rm(LOGS_DIR, { recursive: true, force: true });
  await rm(SECRETS_DIR, { recursive: true, force: true });
}
