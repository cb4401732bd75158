import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditEventType, AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { agentDid, generateAgentKey, proofOfPossession } from "../../src/client/agent-keys.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { systemClock } from "../../src/clock.js";
import type { DataFs } from "../../src/store/memory/data-fs.js";
import { nodeFs } from "../../src/store/memory/data-fs.js";
import { createMemoryStore } from "../../src/store/memory/index.js";
import { appendSealedEntries } from "../support/audit-bulk.js";
import { killCliProcesses, runCli, startCliServer } from "../support/cli-process.js";
import { expectReason } from "../support/errors.js";
import { AUDIENCE, type Enrolled, enrollAgent, grpcClients, SCOPES } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";

/**
 * The embedded store's file system with faults switched on by the test: a disk that
 * refuses new data (ENOSPC, full; EROFS, read-only), or one append torn half-way by a full
 * disk. Reads, truncation and removal keep working, as on a real full disk.
 */
function faultyFs() {
  let refusing: string | undefined;
  let tearNextAppend = false;
  const refusal = (syscall: string) =>
    Object.assign(new Error(`${refusing}: simulated, ${syscall}`), { code: refusing, syscall });
  const torn = (handle: FileHandle): FileHandle =>
    new Proxy(handle, {
      get(target, name, receiver) {
        if (name !== "appendFile" || !tearNextAppend) return Reflect.get(target, name, receiver);
        return async (data: string) => {
          tearNextAppend = false;
          await target.write(data.slice(0, Math.floor(data.length / 2)));
          throw Object.assign(new Error("ENOSPC: simulated, write"), { code: "ENOSPC" });
        };
      },
    });
  const fs: DataFs = {
    ...nodeFs,
    async open(path, flags, mode) {
      if (refusing && flags !== "r") throw refusal("open");
      const handle = await nodeFs.open(path, flags, mode);
      return flags === "a" ? torn(handle) : handle;
    },
    async rename(from, to) {
      if (refusing) throw refusal("rename");
      return nodeFs.rename(from, to);
    },
  };
  return {
    fs,
    refuse: (code: "ENOSPC" | "EROFS" | undefined) => {
      refusing = code;
    },
    tearNextAppend: () => {
      tearNextAppend = true;
    },
  };
}

async function registerAnother(gh: TestGatehouse, enrolled: Enrolled) {
  const operator = grpcClients(gh, enrolled.operatorTls);
  const key = generateAgentKey();
  const did = agentDid(key, enrolled.domain);
  try {
    const call = operator.registry.registerAgent({
      did,
      publicKey: key.publicKey,
      proofOfPossession: proofOfPossession(key, did, enrolled.domain),
      policy: { scopes: SCOPES, audiences: [AUDIENCE] },
      displayName: "written to a failing disk",
    });
    return { did, call };
  } finally {
    // The call is already on its way; closing waits for nothing but frees the channel.
    setTimeout(() => operator.close(), 5_000).unref();
  }
}

async function auditChainOk(gh: TestGatehouse, enrolled: Enrolled): Promise<boolean> {
  const client = createGrpcClient(AuditService, {
    address: gh.grpcAddress,
    tls: enrolled.adminTls,
  });
  try {
    return (await client.verifyAuditChain({})).ok;
  } finally {
    client.close();
  }
}

async function agentKnown(gh: TestGatehouse, enrolled: Enrolled, did: string): Promise<boolean> {
  const operator = grpcClients(gh, enrolled.operatorTls);
  try {
    await operator.registry.getAgent({ did });
    return true;
  } catch {
    return false;
  } finally {
    operator.close();
  }
}

/**
 * Makes `dir` read-only for this process, for real: mode 0500 for an ordinary user; for root,
 * whom modes do not stop, `chattr +i` (immutable even for root). Where neither holds, the test
 * fails naming what it needs rather than passing untested.
 */
function makeReadOnly(dir: string): void {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o500);
    return;
  }
  try {
    execFileSync("chattr", ["+i", dir], { stdio: "ignore" });
  } catch {
    throw new Error(
      `cannot make ${dir} read-only as root: chattr +i needs a file system that supports it ` +
        "(ext4, xfs, btrfs); point TMPDIR at one",
    );
  }
}

/** Undoes makeReadOnly (either way), so the directory can be removed. */
function makeWritable(dir: string): void {
  try {
    execFileSync("chattr", ["-i", dir], { stdio: "ignore" });
  } catch {
    // not immutable, or chattr unsupported: nothing to undo
  }
  try {
    chmodSync(dir, 0o700);
  } catch {
    // already removed
  }
}

describe("the embedded store under disk faults", () => {
  let dataDir: string;
  let servers: TestGatehouse[];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gatehouse-disk-"));
    servers = [];
  });
  afterEach(async () => {
    for (const gh of servers.splice(0)) await gh.stop().catch(() => undefined);
    makeWritable(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A server on `dataDir`, on a failing file system when given one. */
  async function start(fs?: DataFs): Promise<TestGatehouse> {
    const store = fs && (await createMemoryStore({ clock: systemClock, dataDir, fs }));
    const gh = await startTestGatehouse({ dataDir, ...(store ? { store } : {}) });
    servers.push(gh);
    return gh;
  }

  async function restart(gh: TestGatehouse): Promise<TestGatehouse> {
    await gh.stop();
    servers.splice(servers.indexOf(gh), 1);
    return start();
  }

  it.each(["ENOSPC", "EROFS"] as const)(
    "%s (injected): RegisterAgent answers UNAVAILABLE and nothing is served, before or after a restart",
    async (code) => {
      const disk = faultyFs();
      const gh = await start(disk.fs);
      const enrolled = await enrollAgent(gh);

      disk.refuse(code);
      const { did, call } = await registerAnother(gh, enrolled);
      await expectReason(call, Reason.UNAVAILABLE);
      expect(await agentKnown(gh, enrolled, did)).toBe(false);
      disk.refuse(undefined);

      const after = await restart(gh);
      expect(await agentKnown(after, enrolled, did)).toBe(false);
      expect(await agentKnown(after, enrolled, enrolled.did)).toBe(true);
      expect(await auditChainOk(after, enrolled)).toBe(true);
    },
  );

  it("an audit append torn by a full disk (injected) is cut off at once: the chain verifies after a restart", async () => {
    const disk = faultyFs();
    const gh = await start(disk.fs);
    const enrolled = await enrollAgent(gh);

    disk.tearNextAppend();
    const { call } = await registerAnother(gh, enrolled);
    await expectReason(call, Reason.UNAVAILABLE);
    const log = await readFile(join(dataDir, "audit.log"), "utf8");
    expect(log.endsWith("\n")).toBe(true);
    // The next audited change lands on the durable chain.
    const next = await registerAnother(gh, enrolled);
    await next.call;

    const after = await restart(gh);
    expect(await agentKnown(after, enrolled, next.did)).toBe(true);
    expect(await auditChainOk(after, enrolled)).toBe(true);
  });

  it("cuts off a torn last audit line at start, and says so", async () => {
    const gh = await start();
    const enrolled = await enrollAgent(gh);
    await gh.stop();
    servers.splice(0);
    await appendFile(join(dataDir, "audit.log"), '{"seq":99,"prevHash":"ab');

    const after = await start();
    expect(after.logs.join("")).toContain("cut off a torn last audit line");
    expect(await auditChainOk(after, enrolled)).toBe(true);
  });

  it("cuts off at start a batch whose write stopped before its signed last line (a crash mid-append), and says so", async () => {
    const gh = await start();
    const enrolled = await enrollAgent(gh);
    await gh.stop();
    servers.splice(0);
    const path = join(dataDir, "audit.log");
    const durable = await readFile(path, "utf8");
    await appendSealedEntries(
      { kind: "memory", dataDir },
      2,
      (n) => ({
        type: AuditEventType.OPERATOR_CREATED,
        operatorDomain: `never-acknowledged-${n}.example`,
      }),
      { unfinished: true },
    );

    const after = await start();
    expect(after.logs.join("")).toContain("cut off a torn last audit line");
    expect(await readFile(path, "utf8")).toBe(durable);
    expect(await auditChainOk(after, enrolled)).toBe(true);
    // The next audited change continues the durable chain.
    const next = await registerAnother(after, enrolled);
    await next.call;
    expect(await auditChainOk(after, enrolled)).toBe(true);
  });

  it("removes temp files of interrupted saves at start", async () => {
    await (await start()).stop();
    servers.splice(0);
    const stale = ["registry.json.0123456789ab.tmp", "grants.json.ba9876543210.tmp"];
    for (const name of stale) await writeFile(join(dataDir, name), "{ half");

    const gh = await start();
    expect((await readdir(dataDir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    expect(gh.logs.join("")).toContain("removed temp files of interrupted saves");
  });

  it("takes over the lock of a process that no longer runs", async () => {
    await (await start()).stop();
    servers.splice(0);
    const dead = execFileSync("sh", ["-c", "echo $$"]).toString().trim();
    await writeFile(
      join(dataDir, "gatehouse.lock"),
      JSON.stringify({ pid: Number(dead), host: hostname(), startedAt: "then", nonce: "old" }),
    );

    const gh = await start();
    expect(gh.logs.join("")).toContain("took over the data directory lock");
  });

  it("refuses at start a data directory that cannot be written (real: a file in its place)", async () => {
    const file = join(dataDir, "not-a-directory");
    await writeFile(file, "");
    await expect(createMemoryStore({ clock: systemClock, dataDir: file })).rejects.toThrow(
      `data directory ${file} cannot be written`,
    );
  });

  it("refuses at start a read-only data directory (real: mode 0500, or chattr +i as root)", async () => {
    await (await start()).stop();
    servers.splice(0);
    makeReadOnly(dataDir);
    await expect(startTestGatehouse({ dataDir })).rejects.toThrow(
      `data directory ${dataDir} cannot be written`,
    );
  });
});

describe("two `gatehouse dev` processes on one data directory", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gatehouse-lock-"));
  });
  afterEach(async () => {
    await killCliProcesses();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("the second refuses to start, naming the first", async () => {
    const args = ["dev", "--data-dir", dataDir, "--grpc-port", "0", "--connect-port", "0"];
    const first = await startCliServer(args);
    const holder = JSON.parse(await readFile(join(dataDir, "gatehouse.lock"), "utf8")) as {
      pid: number;
    };

    const second = await runCli(args);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(
      `data directory ${dataDir} is in use by process ${holder.pid} on ${hostname()}`,
    );
    // The first is unharmed and still answers.
    expect(first.output()).not.toContain("error");
    await first.stop();
  }, 90_000);
});
