import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { type GoTool, runGoTool, type ToolOutcome } from "../support/tools.js";

/**
 * gRPC health checking (grpc.health.v1, src/server/health.ts) on the running server over
 * mutual TLS, asked by clients no one here wrote: grpc-health-probe (what Kubernetes and
 * container health checks run) and grpcurl through server reflection.
 */
describe("grpc.health.v1 for probes, over mTLS", () => {
  let gh: TestGatehouse;
  let dir: string;
  let tool: (name: GoTool, args: string[]) => Promise<ToolOutcome>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    dir = await mkdtemp(join(tmpdir(), "gatehouse-health-"));
    const tls = await gh.clientTls({ role: "verifier", name: "probe" });
    await writeFile(join(dir, "ca.pem"), tls.ca);
    await writeFile(join(dir, "probe.pem"), tls.cert);
    await writeFile(join(dir, "probe-key.pem"), tls.key, { mode: 0o600 });
    tool = (name, args) => runGoTool(name, args, dir);
  });

  afterAll(async () => {
    await gh?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const probe = (...args: string[]) =>
    tool("grpc-health-probe", [
      "-addr",
      gh.grpcAddress,
      "-tls",
      "-tls-ca-cert",
      "ca.pem",
      "-tls-client-cert",
      "probe.pem",
      "-tls-client-key",
      "probe-key.pem",
      "-rpc-timeout",
      "20s",
      ...args,
    ]);

  it("grpc-health-probe: the whole server and a named service are SERVING", async () => {
    const server = await probe();
    expect(server).toMatchObject({ code: 0 });
    expect(server.stdout + server.stderr).toContain("SERVING");
    expect(await probe("-service", "gatehouse.v1.VerifyService")).toMatchObject({ code: 0 });
  });

  it("grpc-health-probe: an unknown service fails the probe (NOT_FOUND, exit 3)", async () => {
    const unknown = await probe("-service", "gatehouse.v1.NoSuchService");
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("NotFound");
  });

  it("grpcurl: reflection describes the health service, and List names every service", async () => {
    const pki = ["-cacert", "ca.pem", "-cert", "probe.pem", "-key", "probe-key.pem"];
    const described = await tool("grpcurl", [
      ...pki,
      gh.grpcAddress,
      "describe",
      "grpc.health.v1.Health",
    ]);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain("rpc Watch");
    const listed = await tool("grpcurl", [...pki, gh.grpcAddress, "grpc.health.v1.Health/List"]);
    expect(listed.code).toBe(0);
    const statuses = (JSON.parse(listed.stdout) as { statuses: Record<string, unknown> }).statuses;
    expect(statuses[""]).toEqual({ status: "SERVING" });
    expect(statuses["gatehouse.v1.GateService"]).toEqual({ status: "SERVING" });
  });
});
