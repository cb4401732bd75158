/**
 * Runs after the whole test suite (`npm test`): no secret value any test handled (tokens,
 * challenge ids, passes, signatures, private keys — see test/support/secrets.ts) may appear
 * in any log line any test server wrote. Exits 1 on a leak. Not vacuous: it fails when no
 * secrets or no logs were recorded.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AUDIT_DIR, type AuditChainRecord, LOGS_DIR, SECRETS_DIR } from "./support/secrets.js";

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

// Every test server's audit chain, verified (VerifyAuditChain) as it stopped: after all the
// writes its tests made, each chain must still verify. Tests that tamper on purpose opt out.
const chains = (await readAll(AUDIT_DIR))
  .split("\n")
  .filter((line) => line !== "")
  .map((line) => JSON.parse(line) as AuditChainRecord);
const broken = chains.filter((chain) => !chain.ok && chain.detail?.startsWith("broken"));
const unchecked = chains.filter((chain) => !chain.ok && !chain.detail?.startsWith("broken"));
const entries = chains.reduce((sum, chain) => sum + chain.entries, 0);
if (chains.length === 0) {
  console.error("audit scan: no audit chain was verified; run the test suite first");
  process.exit(1);
}
if (broken.length > 0) {
  console.error(`audit scan: ${broken.length} broken chain(s): ${JSON.stringify(broken)}`);
  process.exit(1);
}
console.log(
  `audit scan: ${chains.length - unchecked.length} chains (${entries} entries) verified when their servers stopped, none broken` +
    (unchecked.length > 0 ? `; ${unchecked.length} not checkable (store already closed)` : ""),
);
