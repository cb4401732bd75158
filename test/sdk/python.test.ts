import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToEnd, type SdkServer, startSdkServer } from "../support/sdk-env.js";
import { pythonSdkVenv } from "../support/tools.js";

const PYTHON_SDK = fileURLToPath(new URL("../../clients/python", import.meta.url));

/** The Python SDK's own pytest suite against a real Gatehouse. */
describe("Python SDK (clients/python)", () => {
  let server: SdkServer;
  let python: string;
  beforeAll(async () => {
    python = await pythonSdkVenv();
    server = await startSdkServer();
  }, 600_000);
  afterAll(async () => {
    await server?.dispose();
  });

  it("passes ruff (lint and format) outside the generated stubs", async () => {
    for (const args of [
      ["check", "."],
      ["format", "--check", "."],
    ]) {
      const ruff = await runToEnd(python, ["-m", "ruff", ...args], {
        cwd: PYTHON_SDK,
        env: {},
        timeoutMs: 120_000,
      });
      expect(ruff.code, ruff.output).toBe(0);
    }
  }, 240_000);

  it("passes pytest against the running server (login, DPoP-bound Verify, offline verify, errors)", async () => {
    const pytest = await runToEnd(python, ["-m", "pytest", "-v", "-p", "no:cacheprovider"], {
      cwd: PYTHON_SDK,
      env: server.env,
      timeoutMs: 300_000,
    });
    expect(pytest.code, pytest.output).toBe(0);
    // Every test ran; none was skipped.
    expect(pytest.output).not.toMatch(/SKIPPED|skipped/);
    expect(pytest.output).toMatch(/test_dpop_bound_login_and_verify PASSED/);
  }, 300_000);
});
