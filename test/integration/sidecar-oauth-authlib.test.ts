import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, type Enrolled, enrollAgent, grpcClients } from "../support/flows.js";
import { ISSUER } from "../support/gatehouse.js";
import { rememberSecret } from "../support/secrets.js";
import { startTestSidecar, type TestSidecar } from "../support/sidecar.js";
import { VENV_PYTHON } from "../support/tools.js";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(
  new URL("../support/python/authlib_client_credentials.py", import.meta.url),
);

describe("a stock OAuth client (Python authlib) against /oauth2/token", () => {
  let t: TestSidecar;
  let agent: Enrolled;
  let dir: string;

  beforeAll(async () => {
    t = await startTestSidecar();
    agent = await enrollAgent(t.gh);
    dir = await mkdtemp(join(tmpdir(), "gatehouse-authlib-"));
  });
  afterAll(async () => {
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("gets a token with client_credentials and private_key_jwt, which Verify accepts", async () => {
    const files = {
      key: agent.key.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      cert: agent.agentTls.cert.toString(),
      certKey: agent.agentTls.key.toString(),
      ca: t.gh.caPem,
    };
    for (const [name, pem] of Object.entries(files)) await writeFile(join(dir, name), pem);
    const { stdout } = await run(
      VENV_PYTHON,
      [
        SCRIPT,
        `${t.url}/oauth2/token`,
        ISSUER,
        agent.did,
        join(dir, "key"),
        join(dir, "cert"),
        join(dir, "certKey"),
        join(dir, "ca"),
        "orders:read",
        AUDIENCE,
      ],
      { timeout: 60_000 },
    );
    const token = JSON.parse(stdout) as Record<string, unknown>;
    rememberSecret(String(token.access_token));
    expect(token).toMatchObject({ token_type: "Bearer", scope: "orders:read" });
    expect(token.expires_in).toBeGreaterThan(0);
    const verifier = grpcClients(t.gh, agent.verifierTls);
    try {
      const decision = await verifier.verify.verify({
        token: String(token.access_token),
        audience: AUDIENCE,
        requiredScopes: ["orders:read"],
      });
      expect(decision.allowed).toBe(true);
      expect(decision.agentDid).toBe(agent.did);
    } finally {
      verifier.close();
    }
  });
});
