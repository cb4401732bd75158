import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  agentDid,
  agentDidKey,
  agentKeyToPem,
  fileKeyStore,
  generateAgentKey,
  loadOrCreateAgentKey,
  memoryKeyStore,
} from "../../../clients/typescript/src/agent/index.js";
import { rememberSecret } from "../../support/secrets.js";

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-sdk-keys-"));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("agent key storage", () => {
  it("creates a key file with mode 0600 once and loads the same key after", async () => {
    const path = join(await tempDir(), "nested", "agent.pem");
    const store = fileKeyStore(path);
    const created = await loadOrCreateAgentKey(store);
    rememberSecret(agentKeyToPem(created));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const loaded = await loadOrCreateAgentKey(fileKeyStore(path));
    expect(Buffer.from(loaded.publicKey)).toEqual(Buffer.from(created.publicKey));
    expect(agentDid(loaded, "example.com")).toBe(agentDid(created, "example.com"));
    await expect(store.save(generateAgentKey())).rejects.toThrow();
  });

  it("refuses a key file others can read", async () => {
    const path = join(await tempDir(), "open.pem");
    const key = generateAgentKey();
    rememberSecret(agentKeyToPem(key));
    await writeFile(path, agentKeyToPem(key), { mode: 0o644 });
    await expect(fileKeyStore(path).load()).rejects.toThrow(/accessible by others/);
  });

  it("keeps a key in memory and derives its did:key", async () => {
    const store = memoryKeyStore();
    const key = await loadOrCreateAgentKey(store);
    expect(await store.load()).toBe(key);
    expect(agentDidKey(key)).toMatch(/^did:key:z6Mk/);
  });
});
