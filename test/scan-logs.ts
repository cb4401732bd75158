/**
 * Runs after the whole test suite (`npm test`): no secret value any test handled (tokens,
 * challenge ids, passes, signatures, private keys — see test/support/secrets.ts) may appear
 * in any log line any test server wrote. Exits 1 on a leak. Not vacuous: it fails when no
 * secrets or no logs were recorded.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { LOGS_DIR, SECRETS_DIR } from "./support/secrets.js";

async function readAll(dir: string): Promise<string> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return (await Promise.all(files.map((f) => readFile(join(dir, f), "utf8")))).join("");
}

const logs = await readAll(LOGS_DIR);
const secrets = new Set(
  (await readAll(SECRETS_DIR))
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as string)
    .filter((secret) => secret.length >= 16),
);
if (secrets.size === 0 || logs.length === 0) {
  console.error("log scan: no secrets or no logs recorded; run the test suite first");
  process.exit(1);
}
const leaked = [...secrets].filter((secret) => logs.includes(secret));
if (leaked.length > 0) {
  console.error(`log scan: ${leaked.length} secret value(s) appeared in server logs`);
  process.exit(1);
}
console.log(
  `log scan: ${secrets.size} secret forms checked against ${logs.length} bytes of logs, no leak`,
);
