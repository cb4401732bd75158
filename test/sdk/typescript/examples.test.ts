import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileKeyStore } from "../../../clients/typescript/src/agent/index.js";
import { AUDIENCE } from "../../support/flows.js";
import { ISSUER } from "../../support/gatehouse.js";
import { type SdkEnvironment, startSdkEnvironment } from "./support/environment.js";

const TSX = join(process.cwd(), "node_modules", ".bin", "tsx");
const EXAMPLES = join(process.cwd(), "clients", "typescript", "examples");
const run = promisify(execFile);

describe("TypeScript SDK examples", () => {
  let env: SdkEnvironment;
  let dir: string;
  let agentEnv: Record<string, string>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await startSdkEnvironment();
    dir = await mkdtemp(join(tmpdir(), "gatehouse-sdk-examples-"));
    const file = (name: string, content: string | Buffer) =>
      writeFile(join(dir, name), content, { mode: 0o600 });
    await file("ca.pem", env.t.gh.caPem);
    await file("agent.pem", env.agent.agentTls.cert);
    await file("agent-key.pem", env.agent.agentTls.key);
    await fileKeyStore(join(dir, "agent-signing-key.pem")).save(env.agent.key);
    agentEnv = {
      GATEHOUSE_URL: env.t.gh.connectUrl,
      GATEHOUSE_CA: join(dir, "ca.pem"),
      AGENT_CERT: join(dir, "agent.pem"),
      AGENT_CERT_KEY: join(dir, "agent-key.pem"),
      AGENT_KEY: join(dir, "agent-signing-key.pem"),
      AGENT_DOMAIN: env.agent.domain,
      TOKEN_ENDPOINT: env.tokenEndpoint,
      AUDIENCE,
    };
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    await env?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const runAgent = async (apiUrl: string) => {
    const { stdout } = await run(TSX, [join(EXAMPLES, "agent-calls-api.ts")], {
      env: { ...process.env, ...agentEnv, API_URL: apiUrl },
      timeout: 60_000,
    });
    return stdout.trim().split("\n");
  };

  it("agent-calls-api: logs in and calls the API behind the sidecar twice", async () => {
    const lines = await runAgent(`${env.api.url}/orders/42`);
    const expected = `200 ${JSON.stringify({ agent: env.agent.did, path: "/orders/42" })}`;
    expect(lines).toEqual([expected, expected]);
  });

  it("verify-offline-service: serves the agent, refuses the anonymous", async () => {
    const child = spawn(TSX, [join(EXAMPLES, "verify-offline-service.ts")], {
      env: {
        ...process.env,
        JWKS_URI: env.jwksUri,
        GATEHOUSE_CA: join(dir, "ca.pem"),
        ISSUER,
        AUDIENCE,
        PORT: "0",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.on("exit", (code) => reject(new Error(`service exited with ${code}`)));
    });
    const lines = await runAgent(`${url}/orders/1`);
    const expected = `200 ${JSON.stringify({ hello: env.agent.did, scopes: ["orders:read"] })}`;
    expect(lines).toEqual([expected, expected]);
    const anonymous = await fetch(`${url}/orders/1`);
    expect(anonymous.status).toBe(401);
  });
});
