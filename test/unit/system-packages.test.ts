import { execFile } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../../.ci/system-packages.sh", import.meta.url));

/**
 * `.ci/system-packages.sh check`, the one list `npm run setup`, the suite's global setup and
 * .ci/run share: it names exactly what is missing, and nothing when all is there.
 */
describe(".ci/system-packages.sh check", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it("prints nothing on this machine, where the suite's packages are installed", async () => {
    const { stdout } = await run("bash", [SCRIPT, "check"]);
    expect(stdout).toBe("");
  });

  it("names the package of each command missing from the PATH", async () => {
    // A PATH holding python3 alone: no redis-server, no go.
    const bin = await mkdtemp(join(tmpdir(), "gatehouse-path-"));
    dirs.push(bin);
    // The interpreter itself (a `python3` on the PATH may be a shim script).
    const { stdout: python } = await run("python3", ["-c", "import sys; print(sys.executable)"]);
    await symlink(python.trim(), join(bin, "python3"));
    const { stdout } = await run(process.env.SHELL ?? "/bin/bash", [SCRIPT, "check"], {
      env: { PATH: bin },
    });
    expect(stdout.trim().split(" ")).toEqual(["redis-server", "golang-go"]);
  });

  it("refuses an unknown action with its usage, exit 2", async () => {
    await expect(run("bash", [SCRIPT, "nope"])).rejects.toMatchObject({ code: 2 });
  });
});
