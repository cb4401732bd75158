import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = process.cwd();
const PACKAGE = join(ROOT, "clients", "typescript");
const BIN = join(ROOT, "node_modules", ".bin");

/** What an installed copy is asked to do: every entry point loads and works without the repo. */
const SMOKE = `
import { GatehouseClientError, Reason } from "@gatehouse/client";
import { agentDid, dpopProof, generateAgentKey } from "@gatehouse/client/agent";
import { createJwksKeySet, createVerifier } from "@gatehouse/client/verifier";
import { createOperatorSigner } from "@gatehouse/client/operator";
const key = generateAgentKey();
const did = agentDid(key, "example.com");
const proof = dpopProof(key, { htm: "GET", htu: "https://api.example.com/x" });
const verifier = createVerifier({
  issuer: "https://gatehouse.test",
  audience: "https://api.example.com",
  keys: createJwksKeySet({ source: async () => ({ keys: [] }) }),
});
const outcome = await verifier.verify({ token: "a.b.c" });
const signer = createOperatorSigner({ domain: "example.com", privateKey: new Uint8Array(32).fill(7) });
const error = new GatehouseClientError("x", 7, Reason.SCOPE_NOT_ALLOWED);
console.log(JSON.stringify({
  did: did.startsWith("did:agent:example.com:"),
  proof: proof.split(".").length,
  reason: Reason[outcome.reason],
  signer: signer.publicKey.length,
  error: error.reasonName,
}));
`;

/** A TypeScript consumer: the published types resolve and check under NodeNext. */
const CONSUMER = `
import type { VerifyOutcome } from "@gatehouse/client/verifier";
import { type Agent, createTokenCache } from "@gatehouse/client/agent";
export const cache = createTokenCache({
  obtain: async () => ({ accessToken: "t", tokenType: "Bearer", expiresAtMs: 0, scopes: [] }),
});
export function reasonOf(outcome: VerifyOutcome): number | undefined {
  return outcome.allowed ? undefined : outcome.reason;
}
export type AgentFetch = Agent["fetch"];
`;

describe("TypeScript SDK package", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("packs with npm pack and works installed outside the repository", async () => {
    const work = await mkdtemp(join(tmpdir(), "gatehouse-sdk-pack-"));
    dirs.push(work);
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: PACKAGE,
      timeout: 180_000,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as {
      filename: string;
      files: { path: string }[];
    }[];
    if (!packed) throw new Error("npm pack reported nothing");
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain("dist/clients/typescript/src/agent/index.js");
    expect(paths).toContain("dist/clients/typescript/src/verifier/index.d.ts");
    expect(paths).toContain("dist/gen/gatehouse/v1/gate_pb.js");
    // Only the build: no TypeScript source, no tests, no server entry points.
    expect(
      paths.filter((p) => !p.startsWith("dist/") && p !== "package.json" && p !== "README.md"),
    ).toEqual([]);
    expect(
      paths.some((p) => p.includes("/cli/") || p.includes("/server/") || p.endsWith(".test.js")),
    ).toBe(false);

    // Installed as npm would: the package under node_modules, its dependencies beside it.
    const modules = join(work, "node_modules");
    await mkdir(join(modules, "@gatehouse", "client"), { recursive: true });
    await run("tar", [
      "-xzf",
      join(work, packed.filename),
      "-C",
      join(modules, "@gatehouse", "client"),
      "--strip-components=1",
    ]);
    for (const name of await readdir(join(ROOT, "node_modules"))) {
      if (name !== "@gatehouse" && !name.startsWith("."))
        await symlink(join(ROOT, "node_modules", name), join(modules, name));
    }
    await writeFile(join(work, "smoke.mjs"), SMOKE);
    const smoke = await run(process.execPath, ["smoke.mjs"], { cwd: work, timeout: 60_000 });
    expect(JSON.parse(smoke.stdout)).toEqual({
      did: true,
      proof: 3,
      reason: "TOKEN_MALFORMED",
      signer: 32,
      error: "SCOPE_NOT_ALLOWED",
    });

    await writeFile(join(work, "consumer.ts"), CONSUMER);
    await writeFile(
      join(work, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          strict: true,
          noEmit: true,
          types: ["node"],
          skipLibCheck: false,
        },
        files: ["consumer.ts"],
      }),
    );
    await writeFile(join(work, "package.json"), JSON.stringify({ type: "module", private: true }));
    await run(join(BIN, "tsc"), ["-p", "tsconfig.json"], { cwd: work, timeout: 120_000 });
  }, 400_000);

  it("generates the API reference with typedoc, warnings failing the run", async () => {
    const out = await mkdtemp(join(tmpdir(), "gatehouse-sdk-docs-"));
    dirs.push(out);
    // typedoc.json sets treatWarningsAsErrors: any warning exits non-zero.
    const { stdout, stderr } = await run(
      join(BIN, "typedoc"),
      ["--options", "typedoc.json", "--out", out],
      {
        cwd: PACKAGE,
        timeout: 180_000,
      },
    );
    expect(`${stdout}${stderr}`).not.toMatch(/warning/i);
    expect((await readdir(out)).sort()).toEqual(
      expect.arrayContaining(["index.html", "modules.html"]),
    );
  }, 300_000);
});
