import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compactJwsInLogs, runToEnd, type SdkServer, startSdkServer } from "../support/sdk-env.js";

const GO_SDK = fileURLToPath(new URL("../../clients/go", import.meta.url));

it("Go SDK (clients/go) passes go vet and gofmt", async () => {
  const vet = await runToEnd("go", ["vet", "./..."], {
    cwd: GO_SDK,
    env: {},
    timeoutMs: 600_000,
  });
  expect(vet.code, vet.output).toBe(0);
  const gofmt = await runToEnd("gofmt", ["-l", "."], { cwd: GO_SDK, env: {}, timeoutMs: 60_000 });
  expect(gofmt.code, gofmt.output).toBe(0);
  expect(gofmt.output, "files gofmt would change").toBe("");
}, 600_000);

/** The Go SDK's own tests (`go test ./...`) against a real Gatehouse, with and without DPoP nonces. */
describe.each([{ dpopNonces: false }, { dpopNonces: true }])(
  "Go SDK (clients/go) against a Gatehouse with DPoP nonces $dpopNonces",
  (options) => {
    let server: SdkServer;
    beforeAll(async () => {
      server = await startSdkServer(options);
    });
    afterAll(async () => {
      await server?.dispose();
    });

    it("passes go test ./... against the running server (login, DPoP, offline verify, ext_authz Check)", async () => {
      const test = await runToEnd("go", ["test", "-count=1", "-v", "./..."], {
        cwd: GO_SDK,
        env: { ...server.env, GOFLAGS: "-mod=readonly" },
        timeoutMs: 600_000,
      });
      expect(test.code, test.output).toBe(0);
      expect(compactJwsInLogs(server)).toEqual([]);
      // Every test ran; none was skipped.
      expect(test.output).not.toMatch(/--- SKIP/);
      expect(test.output).toMatch(/--- PASS: TestExtAuthzCheckWithGoControlPlaneTypes/);
      expect(test.output).toMatch(/--- PASS: TestGatehouseAndGoControlPlaneLinkTogether/);
      expect(test.output).toMatch(/--- PASS: TestRequireTokenAgainstARealGatehouse/);
    }, 600_000);
  },
);
