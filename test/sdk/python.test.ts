import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compactJwsInLogs, runToEnd, type SdkServer, startSdkServer } from "../support/sdk-env.js";
import { pythonSdkVenv } from "../support/tools.js";

const PYTHON_SDK = fileURLToPath(new URL("../../clients/python", import.meta.url));

it("Python SDK (clients/python) passes ruff (lint and format) outside the generated stubs", async () => {
  const python = await pythonSdkVenv();
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
}, 600_000);

/** The Python SDK's own pytest suite against a real Gatehouse, with and without DPoP nonces. */
describe.each([{ dpopNonces: false }, { dpopNonces: true }])(
  "Python SDK (clients/python) against a Gatehouse with DPoP nonces $dpopNonces",
  (options) => {
    let server: SdkServer;
    let python: string;
    beforeAll(async () => {
      python = await pythonSdkVenv();
      server = await startSdkServer(options);
    }, 600_000);
    afterAll(async () => {
      await server?.dispose();
    });

    it("passes pytest (login, DPoP-bound Verify, offline verify, errors, the example agent)", async () => {
      const pytest = await runToEnd(python, ["-m", "pytest", "-v", "-p", "no:cacheprovider"], {
        cwd: PYTHON_SDK,
        env: server.env,
        timeoutMs: 300_000,
      });
      expect(pytest.code, pytest.output).toBe(0);
      expect(compactJwsInLogs(server)).toEqual([]);
      // Every test ran; none was skipped.
      expect(pytest.output).not.toMatch(/SKIPPED|skipped/);
      expect(pytest.output).toMatch(/test_dpop_bound_login_and_verify PASSED/);
      expect(pytest.output).toMatch(/test_dpop_nonces_follow_the_server PASSED/);
    }, 300_000);
  },
);
