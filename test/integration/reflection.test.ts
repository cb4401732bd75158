import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { runGoTool, type ToolOutcome } from "../support/tools.js";

/**
 * grpcurl itself (a client no one here wrote) against the running server's reflection service,
 * with no proto files: what the README promises.
 */
describe("server reflection, used by grpcurl", () => {
  let gh: TestGatehouse;
  let dir: string;
  /** grpcurl [flags] <address> [verb…], run in a directory holding an admin's certificate. */
  let grpcurl: (flags: string[], ...verb: string[]) => Promise<ToolOutcome>;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    dir = await mkdtemp(join(tmpdir(), "gatehouse-grpcurl-"));
    const tls = await gh.clientTls({ role: "admin", name: "grpcurl" });
    await writeFile(join(dir, "ca.pem"), tls.ca);
    await writeFile(join(dir, "admin.pem"), tls.cert);
    await writeFile(join(dir, "admin-key.pem"), tls.key, { mode: 0o600 });
    const pki = ["-cacert", "ca.pem", "-cert", "admin.pem", "-key", "admin-key.pem"];
    grpcurl = async (flags, ...verb) => {
      const command = [...pki, "-max-time", "20", ...flags, gh.grpcAddress, ...verb];
      return runGoTool("grpcurl", command, dir);
    };
  });

  afterAll(async () => {
    await gh?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists every Gatehouse service", async () => {
    const { code, stdout } = await grpcurl([], "list");
    expect(code).toBe(0);
    for (const service of [
      "gatehouse.v1.GateService",
      "gatehouse.v1.VerifyService",
      "gatehouse.v1.RegistryService",
      "gatehouse.v1.AuditService",
      "gatehouse.v1.GrantService",
      "envoy.service.auth.v3.Authorization",
    ]) {
      expect(stdout).toContain(service);
    }
  });

  it("describes a method with its HTTP option, and a message with an imported option", async () => {
    const method = await grpcurl([], "describe", "gatehouse.v1.RegistryService.CreateOperator");
    expect(method.code).toBe(0);
    expect(method.stdout).toContain("rpc CreateOperator");
    expect(method.stdout).toContain('post: "/v1/operators"');
    const message = await grpcurl([], "describe", "gatehouse.v1.CreateOperatorRequest");
    expect(message.code).toBe(0);
    expect(message.stdout).toContain("(.gatehouse.v1.rules)");
    const reason = await grpcurl([], "describe", "gatehouse.v1.Reason");
    expect(reason.stdout).toContain("REASON_CHALLENGE_ALREADY_USED");
  });

  it("calls an RPC from JSON, and shows the typed reason of a refusal", async () => {
    const created = await grpcurl(
      ["-d", '{"domain":"grpcurl.example"}'],
      "gatehouse.v1.RegistryService/CreateOperator",
    );
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).operator.domain).toBe("grpcurl.example");

    const refused = await grpcurl(
      ["-d", '{"domain":"not a domain"}'],
      "gatehouse.v1.RegistryService/CreateOperator",
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("InvalidArgument");
    expect(refused.stderr).toContain("REASON_INVALID_ARGUMENT");
    expect(refused.stderr).toContain('"field": "domain"');
  });

  it("answers NOT_FOUND for an unknown symbol", async () => {
    const { code, stderr } = await grpcurl([], "describe", "gatehouse.v1.NoSuchThing");
    expect(code).not.toBe(0);
    expect(stderr).toContain("not found");
  });
});
