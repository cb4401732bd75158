import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { AgentStatus } from "../../gen/gatehouse/v1/resources_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { DOMAIN, enrollThroughLibrary } from "../support/cli-enroll.js";
import {
  type CliServer,
  killCliProcesses,
  runCli,
  startCliServer,
} from "../support/cli-process.js";
import { AUDIENCE, type Enrolled, login } from "../support/flows.js";
import { rememberSecret } from "../support/secrets.js";

/** How long a drain of an idle server may take before the test calls shutdown slow. */
const PROMPT_EXIT_MS = 5_000;

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "gatehouse-cli-"));
});

afterEach(async () => {
  await killCliProcesses();
  await rm(dataDir, { recursive: true, force: true });
});

function startDev(env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  return startCliServer(["dev", "--data-dir", dataDir, "--grpc-port", "0", "--connect-port", "0"], {
    GATEHOUSE_APPROVAL_PORT: "0",
    GATEHOUSE_SIDECAR_PORT: "0",
    GATEHOUSE_METRICS_PORT: "0",
    ...env,
  });
}

/** Runs a CLI command that must succeed; returns its stdout. */
async function ok(args: string[], stdin?: string): Promise<string> {
  const run = await runCli(args, stdin === undefined ? {} : { stdin });
  expect(run, `gatehouse ${args.join(" ")}`).toMatchObject({ code: 0 });
  return run.stdout;
}

/** What the server holds now: the token's decision, the agent's status, the signing key ids. */
async function serverView(server: CliServer, agent: Enrolled, token: string) {
  const address = server.grpcAddress;
  const verify = createGrpcClient(VerifyService, { address, tls: agent.verifierTls });
  const registry = createGrpcClient(RegistryService, { address, tls: agent.adminTls });
  try {
    const decision = await verify.verify({ token, audience: AUDIENCE });
    const { agent: stored } = await registry.getAgent({ did: agent.did });
    const { keys } = await verify.getJwks({});
    return { decision, status: stored?.status, kids: keys.map((key) => key.kid) };
  } finally {
    verify.close();
    registry.close();
  }
}

describe("gatehouse dev", () => {
  it("keeps agents, signing keys and issued tokens across a graceful restart", async () => {
    const first = await startDev();
    const agent = await enrollThroughLibrary(first.grpcAddress, dataDir);
    const gate = createGrpcClient(GateService, {
      address: first.grpcAddress,
      tls: agent.agentTls,
    });
    const token = await login(gate, agent).finally(() => gate.close());
    const before = await serverView(first, agent, token);
    expect(before.decision.allowed).toBe(true);

    const stopped = await first.stop("SIGTERM");
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.ms).toBeLessThan(PROMPT_EXIT_MS);

    const second = await startDev();
    const after = await serverView(second, agent, token);
    expect(after.decision.allowed).toBe(true);
    expect(after.decision.tokenId).toBe(before.decision.tokenId);
    expect(after.status).toBe(AgentStatus.ACTIVE);
    expect(after.kids).toEqual(before.kids);

    // SIGINT (Ctrl-C) drains the same way.
    expect(await second.stop("SIGINT")).toMatchObject({ code: 0, signal: null });
    for (const output of [first.output(), second.output()]) {
      expect(output).not.toContain("PRIVATE KEY");
      expect(output).not.toContain(token);
    }
  }, 120_000);

  it("prints where it listens and how to connect, naming key files but never their content", async () => {
    const server = await startDev();
    const pkiDir = join(dataDir, "pki");
    await server.waitForOutput(/^ {2}gatehouse operator create .*$/m);
    const output = server.output();

    expect(output).toContain(`${pkiDir}/ca.pem`);
    expect(output).toContain(`${pkiDir}/admin-key.pem`);
    expect(output).toContain(`${pkiDir}/verifier.pem`);
    expect(output).toMatch(
      new RegExp(`grpcurl -cacert \\S+ -cert \\S+ -key \\S+ ${server.grpcAddress} list`),
    );
    expect(output).toContain(`${server.connectUrl}/gatehouse.v1.VerifyService/GetJwks`);
    expect(output).not.toContain("PRIVATE KEY");
    expect(output).not.toContain("sidecar.workers");
  }, 60_000);

  it("says that sidecar.workers is not applied in dev, where one sidecar runs in-process", async () => {
    const server = await startDev({ GATEHOUSE_SIDECAR_WORKERS: "3" });
    await server.waitForOutput(/sidecar listening on/);
    expect(server.output()).toMatch(/^sidecar\.workers = 3 applies to `gatehouse sidecar`; /m);
    expect(server.output().match(/sidecar listening on/g)).toHaveLength(1);
  }, 60_000);
});

describe("gatehouse management commands against gatehouse dev", () => {
  it("enrols an agent, logs it in and verifies its token, all through the CLI", async () => {
    const server = await startDev();
    const pkiDir = join(dataDir, "pki");
    const keyFile = join(dataDir, "agent-key.pem");
    const connection = ["--server", server.grpcAddress, "--pki-dir", pkiDir];
    const policy = ["--scope", "orders:read", "--scope", "orders:write", "--audience", AUDIENCE];

    const created = await ok([
      "operator",
      "create",
      "--domain",
      DOMAIN,
      "--attest-domain",
      ...connection,
    ]);
    expect(created).toContain('"status": "OPERATOR_STATUS_ACTIVE"');
    expect(created).toContain('"state": "DOMAIN_VERIFICATION_STATE_VERIFIED"');
    const keygen = await ok(["agent", "keygen", "--out", keyFile, "--domain", DOMAIN]);
    expect(keygen).not.toContain("PRIVATE KEY");
    const did = /^did: (\S+)$/m.exec(keygen)?.[1] ?? "";
    expect(did).toMatch(/^did:agent:example\.com:[0-9a-f]{32}$/);

    await ok(["certs", "issue", "--role", "operator", "--domain", DOMAIN, "--dir", pkiDir]);
    // The operator reads its own record with its own certificate (the default for `get`).
    expect(
      JSON.parse(await ok(["operator", "get", "--domain", DOMAIN, ...connection])),
    ).toMatchObject({
      verification: {
        state: "DOMAIN_VERIFICATION_STATE_VERIFIED",
        method: "DOMAIN_VERIFICATION_METHOD_ADMIN_ATTESTED",
        dnsRecordName: `_gatehouse-challenge.${DOMAIN}`,
      },
    });
    await ok(["certs", "issue", "--role", "agent", "--did", did, "--dir", pkiDir]);
    const registered = await ok([
      ...["agent", "register", "--key", keyFile, "--domain", DOMAIN, "--max-ttl", "600"],
      ...policy,
      ...connection,
    ]);
    expect(JSON.parse(registered)).toMatchObject({ did, status: "AGENT_STATUS_ACTIVE" });

    const token = (
      await ok([
        ...["login", "--key", keyFile, "--domain", DOMAIN, "--scope", "orders:read"],
        ...["--audience", AUDIENCE, ...connection],
      ])
    ).trim();
    rememberSecret(token);
    expect(token.split(".")).toHaveLength(3);

    const decision = await ok(
      ["verify", "--token", "-", "--audience", AUDIENCE, "--scope", "orders:read", ...connection],
      token,
    );
    expect(JSON.parse(decision)).toMatchObject({ allowed: true, agentDid: did });
    expect(decision).toContain('"allowed": true');

    const denied = await runCli([
      ...["verify", "--token", token, "--audience", "https://elsewhere.example"],
      ...connection,
    ]);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({
      allowed: false,
      reason: "REASON_TOKEN_AUDIENCE_MISMATCH",
    });
    expect(server.output()).not.toContain(token);
  }, 120_000);

  it("prints RPC errors with their reason and status code, exit 1", async () => {
    const server = await startDev();
    const run = await runCli([
      ...["agent", "get", "--did", `did:agent:${DOMAIN}:${"0".repeat(32)}`],
      ...["--server", server.grpcAddress, "--pki-dir", join(dataDir, "pki")],
    ]);

    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe("error: AGENT_NOT_FOUND (5): agent not found");
  }, 60_000);
});

/** A dev server, an enrolled agent, and its and its operator's certificates in the PKI dir. */
async function startWithAgent() {
  const server = await startDev();
  const { did } = await enrollThroughLibrary(server.grpcAddress, dataDir);
  const pkiDir = join(dataDir, "pki");
  await ok(["certs", "issue", "--role", "operator", "--domain", DOMAIN, "--dir", pkiDir]);
  await ok(["certs", "issue", "--role", "agent", "--did", did, "--dir", pkiDir]);
  return { server, did, connection: ["--server", server.grpcAddress, "--pki-dir", pkiDir] };
}

describe("gatehouse grant and approver commands against gatehouse dev", () => {
  it("an agent requests a grant; its operator lists, revokes and reads it", async () => {
    const { did, connection } = await startWithAgent();
    const asOperator = ["--domain", DOMAIN, ...connection];

    const requested = JSON.parse(
      await ok([
        ...["grant", "request", "--did", did, "--audience", AUDIENCE],
        ...["--capability", "transact:payments/eur", "--capability", "reconcile"],
        ...["--reason", "pay the supplier's invoice 2026-114", "--duration", "600", ...connection],
      ]),
    );
    expect(requested).toMatchObject({
      agentDid: did,
      state: "GRANT_STATE_PENDING",
      capabilities: [
        { action: "CAPABILITY_ACTION_TRANSACT", resource: "payments/eur" },
        { action: "CAPABILITY_ACTION_CUSTOM", name: "reconcile" },
      ],
      scopes: ["transact:payments/eur", "reconcile"],
      duration: "600s",
    });

    const pending = JSON.parse(await ok(["grant", "list", "--state", "pending", ...asOperator]));
    expect(pending.grants.map((grant: { id: string }) => grant.id)).toEqual([requested.id]);

    const revoked = await ok([
      ...["grant", "revoke", "--id", requested.id, "--comment", "paid by hand"],
      ...asOperator,
    ]);
    expect(JSON.parse(revoked)).toMatchObject({ state: "GRANT_STATE_REVOKED" });
    expect(
      JSON.parse(await ok(["grant", "get", "--id", requested.id, ...asOperator])),
    ).toMatchObject({ id: requested.id, state: "GRANT_STATE_REVOKED" });
  }, 120_000);

  it("approver invite prints the enrollment link alone on stdout, and nowhere else", async () => {
    const { server, connection } = await startWithAgent();
    const asOperator = ["--domain", DOMAIN, ...connection];

    const run = await runCli(["approver", "invite", "--name", "Ana Lima", ...asOperator]);
    const url = run.stdout.trim();
    rememberSecret(url);
    expect(run.code).toBe(0);
    expect(url).toMatch(/^https:\/\/\S+\/approve\/enroll#\S+$/);
    const [, secret = ""] = url.split("#");
    expect(run.stderr).toMatch(/valid until \d{4}-/);
    expect(run.stderr).not.toContain(secret);
    expect(server.output()).not.toContain(secret);
    // Nobody enrolled yet: the link alone makes no approver.
    expect(JSON.parse(await ok(["approver", "list", ...asOperator]))).toMatchObject({
      approvers: [],
    });
  }, 120_000);

  it("exits 2 on bad input, 1 with the reason when the server refuses", async () => {
    const { did, connection } = await startWithAgent();
    const request = ["grant", "request", "--did", did, "--reason", "just because", ...connection];

    const badState = await runCli(["grant", "list", "--state", "stale", ...connection]);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain('unknown grant state "stale"');
    const badCapability = await runCli([
      ...request,
      "--audience",
      AUDIENCE,
      "--capability",
      "read:",
    ]);
    expect(badCapability.code).toBe(2);
    expect(badCapability.stderr).toContain('not a capability: "read:"');

    const refused = await runCli([
      ...request,
      ...["--audience", "https://elsewhere.example", "--capability", "read"],
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: AUDIENCE_NOT_ALLOWED \(\d+\): /);
  }, 120_000);
});

describe("gatehouse configuration errors", () => {
  it("a wrong call (unknown command or option, missing value) exits 2; --help exits 0", async () => {
    const wrong = [
      ["nosuchcommand"],
      ["serve", "--no-such-option"],
      ["keys", "list", "--page-size"],
    ];
    for (const args of wrong) {
      const run = await runCli(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/^error: /m);
    }
    const help = await runCli(["agent", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: gatehouse agent");
    // The ports `dev --help` names are the configuration table's defaults.
    const dev = await runCli(["dev", "--help"]);
    expect(dev.stdout).toMatch(/--sidecar-port <port> .*\(default: 7447\)/);
  }, 60_000);

  it("serve without TLS files exits 2 naming every missing setting", async () => {
    const run = await runCli(["serve"]);

    expect(run.code).toBe(2);
    for (const setting of ["GATEHOUSE_TLS_CERT", "GATEHOUSE_TLS_KEY", "GATEHOUSE_TLS_CA"]) {
      expect(run.stderr).toContain(setting);
    }
  }, 60_000);

  it("config check lists every bad setting, exit 2", async () => {
    const run = await runCli(["config", "check", "--mode", "dev"], {
      env: { GATEHOUSE_GRPC_PORT: "abc", GATEHOUSE_TOKEN_TTL: "-1" },
    });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('GATEHOUSE_GRPC_PORT: must be an integer 0..65535, got "abc"');
    expect(run.stderr).toContain('GATEHOUSE_TOKEN_TTL: must be an integer 1..86400, got "-1"');
  }, 60_000);

  it("config check prints the settings when they are valid", async () => {
    const run = await runCli(["config", "check", "--mode", "dev"], {
      env: { GATEHOUSE_DATA_DIR: dataDir },
    });

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^mode\s+dev$/m);
    expect(run.stdout).toContain(dataDir);
  }, 60_000);

  it("config check --all prints every setting from the table, secrets only as set", async () => {
    const secret = "x".repeat(40);
    const run = await runCli(["config", "check", "--mode", "dev", "--all"], {
      env: {
        GATEHOUSE_DATA_DIR: dataDir,
        GATEHOUSE_PROXY_ENABLED: "true",
        GATEHOUSE_PROXY_TRUSTED_PEERS: "10.0.0.0/8",
        GATEHOUSE_PROXY_HMAC_SECRET: secret,
      },
    });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`data_dir = ${JSON.stringify(dataDir)}`);
    expect(run.stdout).toContain('proxy.hmac_secret = "(set, not shown)"');
    expect(run.stdout).toContain("tokens.default_ttl_seconds = 300");
    expect(run.stdout).not.toContain(secret);
  }, 60_000);
});
