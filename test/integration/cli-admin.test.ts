import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { agentDidKey, generateAgentKey } from "../../src/client/agent-keys.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { ed25519Thumbprint } from "../../src/crypto/jose/thumbprint.js";
import { DOMAIN, enrollThroughLibrary } from "../support/cli-enroll.js";
import {
  type CliServer,
  killCliProcesses,
  runCli,
  startCliServer,
} from "../support/cli-process.js";
import { AUDIENCE, type Enrolled, login } from "../support/flows.js";
import { rememberSecret } from "../support/secrets.js";

const OTHER_DOMAIN = "other.example.com";

let dataDir: string;
let server: CliServer;
let agent: Enrolled;
/** The environment every command runs with: no --server, no --pki-dir on any of them. */
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "gatehouse-cli-admin-"));
  server = await startCliServer(
    ["dev", "--data-dir", dataDir, "--grpc-port", "0", "--connect-port", "0"],
    { GATEHOUSE_APPROVAL_PORT: "0", GATEHOUSE_METRICS_PORT: "0" },
  );
  agent = await enrollThroughLibrary(server.grpcAddress, dataDir);
  env = { GATEHOUSE_SERVER: server.grpcAddress, GATEHOUSE_DATA_DIR: dataDir };
}, 60_000);

afterAll(async () => {
  await killCliProcesses();
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs a command that must succeed, against the dev server named by GATEHOUSE_SERVER. */
async function ok(args: string[]): Promise<string> {
  const run = await runCli(args, { env });
  expect(run, `gatehouse ${args.join(" ")}`).toMatchObject({ code: 0 });
  return run.stdout;
}

/** Runs a command that must be refused as called wrongly (exit 2), naming why. */
async function usage(args: string[], message: string): Promise<void> {
  const run = await runCli(args, { env });
  expect(run.code, `gatehouse ${args.join(" ")}: ${run.stderr}`).toBe(2);
  expect(run.stderr).toContain(message);
}

async function freshToken(): Promise<string> {
  const gate = createGrpcClient(GateService, { address: server.grpcAddress, tls: agent.agentTls });
  const token = await login(gate, agent).finally(() => gate.close());
  rememberSecret(token);
  return token;
}

async function decisionOf(token: string) {
  const verify = createGrpcClient(VerifyService, {
    address: server.grpcAddress,
    tls: agent.verifierTls,
  });
  return verify.verify({ token, audience: AUDIENCE }).finally(() => verify.close());
}

describe("the CLI finds the server and its files without flags", () => {
  it("prints the version of package.json", async () => {
    const { version } = JSON.parse(await readFile("package.json", "utf8"));
    expect((await ok(["--version"])).trim()).toBe(version);
  }, 60_000);

  it("issues certificates with --pki-dir, still accepts --dir, and hides it from the help", async () => {
    const pkiDir = join(dataDir, "pki");
    await ok(["certs", "issue", "--role", "operator", "--domain", DOMAIN, "--pki-dir", pkiDir]);
    await ok(["certs", "issue", "--role", "agent", "--did", agent.did, "--dir", pkiDir]);
    const help = await ok(["certs", "issue", "--help"]);
    expect(help).toContain("--pki-dir");
    expect(help).not.toContain("--dir <");
  }, 60_000);

  it("generates an agent key into the data directory, owner-only", async () => {
    const out = await ok(["agent", "keygen"]);
    const path = /^wrote (\S+)$/m.exec(out)?.[1] ?? "";
    expect(path.startsWith(join(dataDir, "keys", "agent-"))).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  }, 60_000);

  it("resolves a DID and prints the issuer metadata", async () => {
    const resolved = JSON.parse(await ok(["agent", "resolve", "--did", agent.did]));
    expect(resolved.document.id).toBe(agent.did);
    expect(resolved.deactivated ?? false).toBe(false);
    const metadata = JSON.parse(await ok(["issuer-metadata"]));
    expect(metadata.jwksUri).toMatch(/\/\.well-known\/jwks\.json$/);
    expect(metadata.grantTypesSupported.length).toBeGreaterThan(0);
  }, 60_000);

  it("refuses bad input with exit 2 before calling the server", async () => {
    await usage(["revoke"], "name exactly one of --token-id, --did, --key-thumbprint, --operator");
    await usage(["revoke", "--token-id", "a", "--did", agent.did], "name exactly one of");
    await usage(["agent", "resolve"], "--did");
    await usage(["issuer-metadata", "--bogus"], "unknown option");
    const didKey = agentDidKey(generateAgentKey());
    await usage(
      ["agent", "rotate-key", "--did", didKey, "--key", "a.pem", "--new-key", "b.pem"],
      "must be a did:agent DID",
    );
    await usage(
      ["operator", "set-key", "--domain", DOMAIN, "--public-key", join(dataDir, "missing.pem")],
      "cannot read the key",
    );
    // A P-256 certificate key is not an operator key.
    await usage(
      [
        "operator",
        "set-key",
        "--domain",
        DOMAIN,
        "--public-key",
        join(dataDir, "pki", "admin-key.pem"),
      ],
      "is not an Ed25519 key in PEM",
    );
  }, 120_000);
});

describe("operator and admin commands for every registry RPC they use", () => {
  it("revokes a token by its jti", async () => {
    const token = await freshToken();
    expect((await decisionOf(token)).allowed).toBe(true);
    const { jti } = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    await ok(["revoke", "--token-id", jti, "--reason", "leaked in a log"]);
    expect(Reason[(await decisionOf(token)).reason]).toBe(Reason[Reason.TOKEN_REVOKED]);
  }, 60_000);

  it("sets an operator key from a PEM file", async () => {
    const keyFile = /^wrote (\S+)$/m.exec(await ok(["agent", "keygen"]))?.[1] ?? "";
    const operator = JSON.parse(
      await ok(["operator", "set-key", "--domain", DOMAIN, "--public-key", keyFile]),
    );
    expect(operator.domain).toBe(DOMAIN);
    expect(Buffer.from(operator.publicKey, "base64")).toHaveLength(32);
  }, 60_000);

  it("rotates an agent's key: the DID document then lists both keys", async () => {
    const current = join(dataDir, "current-agent.pem");
    await writeFile(
      current,
      agent.key.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      { mode: 0o600 },
    );
    const next = /^wrote (\S+)$/m.exec(await ok(["agent", "keygen"]))?.[1] ?? "";
    const rotated = JSON.parse(
      await ok(["agent", "rotate-key", "--did", agent.did, "--key", current, "--new-key", next]),
    );
    expect(rotated.did).toBe(agent.did);
    expect(Buffer.from(rotated.publicKey, "base64")).not.toEqual(Buffer.from(agent.key.publicKey));
    const resolved = JSON.parse(await ok(["agent", "resolve", "--did", agent.did]));
    expect(resolved.document.verificationMethod).toHaveLength(2);
  }, 60_000);

  it("revokes the retired agent key by its thumbprint", async () => {
    const thumbprint = ed25519Thumbprint(agent.key.publicKey);
    expect((await ok(["revoke", "--key-thumbprint", thumbprint])).trim()).toBe(
      `revoked key-thumbprint ${thumbprint}`,
    );
  }, 60_000);

  it("deletes an agent, leaving a tombstone", async () => {
    const deleted = JSON.parse(
      await ok(["agent", "delete", "--did", agent.did, "--reason", "decommissioned"]),
    );
    expect(deleted.status).toBe("AGENT_STATUS_DELETED");
  }, 60_000);

  it("revokes an operator (admin)", async () => {
    await ok(["operator", "create", "--domain", OTHER_DOMAIN, "--attest-domain"]);
    expect((await ok(["revoke", "--operator", OTHER_DOMAIN])).trim()).toBe(
      `revoked operator ${OTHER_DOMAIN}`,
    );
    const stored = JSON.parse(
      await ok([
        ...["operator", "get", "--domain", OTHER_DOMAIN],
        ...["--cert", join(dataDir, "pki", "admin.pem")],
      ]),
    );
    expect(stored.status).toBe("OPERATOR_STATUS_REVOKED");
  }, 60_000);
});
