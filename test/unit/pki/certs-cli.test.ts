import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError } from "commander";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { certsCommand } from "../../../src/cli/certs.js";
import { fingerprintSha256 } from "../../../src/pki/fingerprint.js";

interface CliRun {
  readonly stdout: string[];
  readonly stderr: string;
  readonly error?: CommanderError;
}

/** Runs `gatehouse certs …` in-process, capturing output and the exit instead of exiting. */
async function runCerts(args: string[]): Promise<CliRun> {
  const command = certsCommand();
  let stderr = "";
  for (const sub of [command, ...command.commands]) {
    sub.exitOverride().configureOutput({
      writeErr: (text) => {
        stderr += text;
      },
    });
  }
  const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    await command.parseAsync(args, { from: "user" });
    return { stdout: log.mock.calls.map((call) => call.join(" ")), stderr };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { stdout: log.mock.calls.map((call) => call.join(" ")), stderr, error };
  } finally {
    log.mockRestore();
  }
}

describe("gatehouse certs", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "gatehouse-certs-"));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("init writes the dev PKI, then reports nothing to do", async () => {
    const first = await runCerts(["init", "--dir", dir]);
    const second = await runCerts(["init", "--dir", dir]);

    expect(first.error).toBeUndefined();
    expect(first.stdout).toContain(`wrote ${join(dir, "ca.pem")}`);
    expect(first.stdout).toContain(`wrote ${join(dir, "admin-key.pem")}`);
    expect(second.stdout).toEqual([`dev PKI in ${dir} is complete; nothing written`]);
  });

  it("issue refuses an operator without --domain, naming the option, with exit code 2", async () => {
    const run = await runCerts(["issue", "--role", "operator", "--dir", dir]);

    expect(run.error?.exitCode).toBe(2);
    expect(run.error?.message).toContain("--role operator needs --domain");
    expect(run.stderr).toContain("--domain");
  });

  it("issue reports every problem at once", async () => {
    const run = await runCerts([
      "issue",
      ...["--role", "operator", "--domain", "Example.COM", "--name", "x", "--days", "0"],
      ...["--trust-domain", "Bad_TD", "--dir", dir],
    ]);

    expect(run.error?.exitCode).toBe(2);
    expect(run.error?.message.split("\n")).toEqual([
      'error: --trust-domain must be a lowercase DNS name, got "Bad_TD"',
      "error: --days must be a whole number from 1 to 3650",
      "error: --name does not apply to --role operator",
      'error: --domain must be a lowercase DNS name, got "Example.COM"',
    ]);
  });

  it.each([
    [[], "--role must be one of admin, operator, verifier, proxy, agent, server"],
    [["--role", "admin"], "--role admin needs --name"],
    [["--role", "agent", "--did", "did:web:example.com"], "--did must be a did:agent: or did:key:"],
    [["--role", "server"], "--role server needs --dns or --ip"],
    [["--role", "server", "--ip", "1.2.3"], '--ip must be an IPv4 or IPv6 address, got "1.2.3"'],
  ])("issue %j is refused: %s", async (flags, problem) => {
    const run = await runCerts(["issue", ...flags, "--dir", dir]);

    expect(run.error?.exitCode).toBe(2);
    expect(run.error?.message).toContain(problem);
  });

  it("issue needs the dev CA", async () => {
    const run = await runCerts(["issue", "--role", "admin", "--name", "alice", "--dir", dir]);

    expect(run.error?.exitCode).toBe(1);
    expect(run.error?.message).toContain('run "gatehouse certs init" first');
  });

  it("issue writes an operator certificate and prints its fingerprint", async () => {
    await runCerts(["init", "--dir", dir, "--trust-domain", "gatehouse.test"]);
    const out = join(dir, "op");

    const run = await runCerts([
      "issue",
      ...["--role", "operator", "--domain", "example.com", "--out", out],
      ...["--dir", dir, "--trust-domain", "gatehouse.test"],
    ]);

    expect(run.error).toBeUndefined();
    const certPem = await readFile(`${out}.pem`, "utf8");
    expect((await stat(`${out}-key.pem`)).mode & 0o777).toBe(0o600);
    expect(run.stdout).toContain("subject alt name: spiffe://gatehouse.test/operator/example.com");
    expect(run.stdout).toContain(`sha256 fingerprint: ${fingerprintSha256(certPem)}`);
  });

  it("issue names the file after the identity and never overwrites it", async () => {
    await runCerts(["init", "--dir", dir]);
    const did = "did:agent:example.com:0123456789abcdef0123456789abcdef";
    const args = ["issue", "--role", "agent", "--did", did, "--dir", dir];

    const first = await runCerts(args);
    const second = await runCerts(args);

    const certPath = join(dir, "agent-0123456789abcdef0123456789abcdef.pem");
    expect(first.stdout).toContain(`wrote ${certPath}`);
    expect(second.error?.exitCode).toBe(2);
    expect(second.error?.message).toContain(`${certPath} already exists`);
  });
});
