import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { SERVER_NODE_FLAGS } from "../../src/app/node-flags.js";
import { createGrpcClient } from "../../src/client/grpc-client.js";
import { type DevPki, ensureDevPki } from "../../src/pki/dev-pki.js";
import { issueCertificate } from "../../src/pki/issue-certificate.js";
import { type RoleIdentity, roleCertificateSpec } from "../../src/pki/role-certificate.js";
import { solvedIteratedHash } from "../support/compute-solvers.js";
import { AUDIENCE, type Enrolled, enrollAgent, grpcClients, login } from "../support/flows.js";
import { ISSUER, TRUST_DOMAIN } from "../support/gatehouse.js";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BUNDLE = join(REPO, "dist", "bundle", "gatehouse.js");

/**
 * The bundle `npm run build` makes (scripts/build.ts), run as `npm start` runs it: a
 * process of its own, on the embedded store. What a bundle could break, each exercised: the
 * CommonJS packages (grpc-js, pino, the store), the iterated-hash worker thread (a separate
 * entry point), the approval page's assets read beside the code, the version built in.
 */
describe("the bundled server (npm run build, then npm start)", () => {
  let dir: string;
  let pki: DevPki;
  let server: ChildProcess;
  let output = "";
  let approvalPort: number;
  const gh = {
    grpcAddress: "",
    async clientTls(identity: RoleIdentity) {
      const spec = roleCertificateSpec(TRUST_DOMAIN, identity);
      const pair = await issueCertificate({ ca: pki.ca, ...spec, validityDays: 1 });
      return { cert: Buffer.from(pair.certPem), key: Buffer.from(pair.keyPem), ca: caPem() };
    },
  };
  const caPem = () => Buffer.from(pki.ca.certPem);
  let agent: Enrolled;

  beforeAll(async () => {
    await run("npm", ["run", "build", "--silent"], { cwd: REPO, timeout: 120_000 });
    dir = await mkdtemp(join(tmpdir(), "gatehouse-bundle-"));
    pki = await ensureDevPki(join(dir, "pki"), { trustDomain: TRUST_DOMAIN });
    approvalPort = await freePort();
    server = spawn(process.execPath, [...SERVER_NODE_FLAGS, BUNDLE, "serve"], {
      env: {
        PATH: process.env.PATH,
        GATEHOUSE_DATA_DIR: join(dir, "data"),
        GATEHOUSE_TLS_CERT: pki.server.certPath,
        GATEHOUSE_TLS_KEY: pki.server.keyPath,
        GATEHOUSE_TLS_CA: pki.ca.certPath,
        GATEHOUSE_ISSUER: ISSUER,
        GATEHOUSE_TRUST_DOMAIN: TRUST_DOMAIN,
        GATEHOUSE_GRPC_HOST: "127.0.0.1",
        GATEHOUSE_GRPC_PORT: "0",
        GATEHOUSE_CONNECT_HOST: "127.0.0.1",
        GATEHOUSE_CONNECT_PORT: "0",
        GATEHOUSE_METRICS_PORT: "0",
        GATEHOUSE_APPROVAL_HOST: "127.0.0.1",
        GATEHOUSE_APPROVAL_PORT: String(approvalPort),
        GATEHOUSE_ITERATED_HASH_ITERATIONS: "1000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    server.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    gh.grpcAddress = `127.0.0.1:${await printed(/grpc listening on [^\s]*:(\d+)/)}`;
    agent = await enrollAgent(gh);
  }, 180_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = once(server, "exit");
      server.kill("SIGTERM");
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Resolves with the first group of `pattern` once the server printed it. */
  async function printed(pattern: RegExp): Promise<string> {
    for (let waited = 0; waited < 60_000; waited += 20) {
      const match = pattern.exec(output);
      if (match?.[1]) return match[1];
      if (server.exitCode !== null) break;
      await sleep(20);
    }
    throw new Error(`the bundled server did not print ${pattern}:\n${output}`);
  }

  it("prints the package's version", async () => {
    const packageJson = JSON.parse(await readFile(join(REPO, "package.json"), "utf8"));
    const { stdout } = await run(process.execPath, [BUNDLE, "--version"]);
    expect(stdout.trim()).toBe(packageJson.version);
  });

  it("logs in (signature) and verifies the token", async () => {
    const clients = grpcClients(gh, agent.agentTls);
    const verifier = grpcClients(gh, agent.verifierTls);
    try {
      const token = await login(clients.gate, agent);
      const decision = await verifier.verify.verify({ token, audience: AUDIENCE });
      expect(decision.allowed, String(decision.reason)).toBe(true);
    } finally {
      clients.close();
      verifier.close();
    }
  });

  it("checks an iterated-hash answer on its worker thread (the bundle's worker.js)", async () => {
    const clients = grpcClients(gh, agent.agentTls);
    try {
      const solved = await solvedIteratedHash(clients.gate, agent);
      const answer = { case: "iteratedHash", value: { digest: solved.digest } } as const;
      const { passToken } = await clients.gate.submit({ challengeId: solved.challengeId, answer });
      expect(passToken).not.toBe("");
    } finally {
      clients.close();
    }
  });

  it("serves the approval page's assets, read from beside the bundle", async () => {
    const expected = await readFile(join(REPO, "src", "approval", "assets", "app.js"));
    const served = await httpsGet(`https://127.0.0.1:${approvalPort}/approve/assets/app.js`);
    expect(served.status).toBe(200);
    expect(served.body.equals(expected)).toBe(true);
  });

  it("keeps an intact audit chain, and drains on SIGTERM with exit code 0", async () => {
    const tls = await gh.clientTls({ role: "admin", name: "bundle-audit" });
    const audit = createGrpcClient(AuditService, { address: gh.grpcAddress, tls });
    try {
      const verdict = await audit.verifyAuditChain({});
      expect(verdict.ok).toBe(true);
    } finally {
      audit.close();
    }
    const exited = once(server, "exit");
    server.kill("SIGTERM");
    expect((await exited)[0]).toBe(0);
  });

  function httpsGet(url: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      request(url, { ca: caPem(), servername: "localhost" }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
        );
      })
        .on("error", reject)
        .end();
    });
  }
});

/** A loopback port free right now (the approval listener is given a fixed one). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
