import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { killCliProcesses, runCli, startCliServer } from "../support/cli-process.js";
import { http1 } from "../support/sidecar.js";

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "gatehouse-sidecar-cli-"));
});

afterEach(async () => {
  await killCliProcesses();
  await rm(dataDir, { recursive: true, force: true });
});

describe("gatehouse dev with its sidecar", () => {
  it("starts the HTTP sidecar too, prints its URL, and serves the JWKS there", async () => {
    const server = await startCliServer(
      [
        "dev",
        "--data-dir",
        dataDir,
        "--grpc-port",
        "0",
        "--connect-port",
        "0",
        "--sidecar-port",
        "0",
      ],
      { GATEHOUSE_APPROVAL_PORT: "0" },
    );
    const [, url = ""] = await server.waitForOutput(/sidecar listening on (https:\/\/\S+)/);
    const ca = await readFile(join(dataDir, "pki", "ca.pem"), "utf8");
    const jwks = await http1(ca, `${url}/.well-known/jwks.json`);
    expect(jwks.status, jwks.text).toBe(200);
    expect((jwks.json() as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    expect((await http1(ca, `${url}/readyz`)).status).toBe(200);
    expect((await server.stop()).code).toBe(0);
  });

  it("refuses to start the sidecar alone without the proxy secret", async () => {
    const run = await runCli(["sidecar", "--mode", "dev", "--data-dir", dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("proxy.enabled");
  });
});
