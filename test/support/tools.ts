import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Where the suite installs the Go tools it runs (git-ignored). */
export const TOOLS_BIN = join(REPO_ROOT, ".cache", "tools", "bin");

/** The Go tools the suite runs against the real server, pinned. */
const GO_TOOLS = {
  grpcurl: "github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3",
  // Prometheus 3.x's Go module (its v0.3xx tags): `promtool check rules` on infra/prometheus.
  promtool: "github.com/prometheus/prometheus/cmd/promtool@v0.316.0",
} as const;

export type GoTool = keyof typeof GO_TOOLS;

/** The path of an installed Go tool (installed by `provisionGoTools` in the global setup). */
export function goToolPath(tool: GoTool): string {
  return join(TOOLS_BIN, tool);
}

/**
 * Installs every pinned Go tool missing from TOOLS_BIN with `go install` (from the Go module
 * proxy). Without Go it fails at once, naming what to install: a suite is never skipped.
 */
export async function provisionGoTools(): Promise<void> {
  for (const [tool, module] of Object.entries(GO_TOOLS)) {
    try {
      await access(join(TOOLS_BIN, tool), constants.X_OK);
      continue;
    } catch {
      // not installed yet
    }
    try {
      await run("go", ["install", module], {
        env: { ...process.env, GOBIN: TOOLS_BIN, GOFLAGS: "-mod=mod" },
        timeout: 600_000,
      });
    } catch (error) {
      throw new Error(
        `the tests need ${tool}: install Go (https://go.dev/dl or Debian's golang-go), ` +
          `then run: GOBIN=${TOOLS_BIN} go install ${module}\n${String(error)}`,
      );
    }
  }
}
