import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compactJwsInLogs, runToEnd, type SdkServer, startSdkServer } from "../support/sdk-env.js";
import { goToolPath, pythonToolPath } from "../support/tools.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GO_SDK = join(REPO_ROOT, "clients", "go");

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

/** The version line each generator writes: buf passes no compiler version, protoc does. */
const withoutProtocVersion = (source: string) => source.replace(/^\/\/ (\t|- )protoc +.*$/m, "");

it("stock protoc (no buf, no M options) generates the committed Go stubs from the protos' go_package", async () => {
  const out = await mkdtemp(join(tmpdir(), "gatehouse-protoc-go-"));
  try {
    const protos = (await readdir(join(REPO_ROOT, "proto", "gatehouse", "v1")))
      .filter((name) => name.endsWith(".proto"))
      .map((name) => `proto/gatehouse/v1/${name}`);
    const protoc = await runToEnd(
      pythonToolPath("python-grpc-tools-protoc"), // protoc as grpcio-tools ships it
      [
        "-Iproto",
        `--plugin=protoc-gen-go=${goToolPath("protoc-gen-go")}`,
        `--plugin=protoc-gen-go-grpc=${goToolPath("protoc-gen-go-grpc")}`,
        `--go_out=${out}`,
        "--go_opt=paths=source_relative",
        `--go-grpc_out=${out}`,
        "--go-grpc_opt=paths=source_relative",
        ...protos,
      ],
      { cwd: REPO_ROOT, env: {}, timeoutMs: 120_000 },
    );
    expect(protoc.code, protoc.output).toBe(0);
    const committed = join(GO_SDK, "gen", "gatehouse", "v1");
    const generated = (await readdir(join(out, "gatehouse", "v1"))).sort();
    expect(generated).toEqual((await readdir(committed)).sort());
    for (const name of generated) {
      const fresh = await readFile(join(out, "gatehouse", "v1", name), "utf8");
      const kept = await readFile(join(committed, name), "utf8");
      expect(withoutProtocVersion(fresh), name).toBe(withoutProtocVersion(kept));
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 120_000);

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
      expect(test.output).toMatch(/--- PASS: TestAgentTransportCallsTheService/);
    }, 600_000);
  },
);
