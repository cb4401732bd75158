import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
/** The one list of the Debian packages the suite runs (redis-server, chromium, nginx, …). */
const SCRIPT = fileURLToPath(new URL("../../.ci/system-packages.sh", import.meta.url));

/**
 * Fails the run at once, before any test, when a system package the suite runs is missing,
 * naming the one command that installs them all: installing packages needs root, which a
 * test run should not ask for behind a developer's back.
 */
export async function checkSystemPackages(): Promise<void> {
  const { stdout } = await run("bash", [SCRIPT, "check"], { timeout: 30_000 });
  const missing = stdout.trim();
  if (missing === "") return;
  throw new Error(
    `the tests need these Debian/Ubuntu packages: ${missing}\n` +
      "install them with:  npm run setup   (runs: sudo apt-get install -y " +
      `${missing}), then run npm test again`,
  );
}
