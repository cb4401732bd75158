import { chmod, mkdir, open, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { type AgentKey, agentKeyFromPem, agentKeyToPem, generateAgentKey } from "./key.js";

/** Where an agent keeps its key: a file, memory, or anything the caller supplies. */
export interface AgentKeyStore {
  /** The stored key, or undefined when none is stored yet. */
  load(): Promise<AgentKey | undefined>;
  /** Stores `key`; refuses to replace a stored one (a key is an identity). */
  save(key: AgentKey): Promise<void>;
}

/** Bits a key file must not have: readable, writable or executable by group or others. */
const OPEN_MODE_BITS = 0o077;

/**
 * A PKCS#8 PEM file written with mode 0600 (created exclusively, so an existing file is never
 * overwritten). Loading refuses a file group or others may access, as ssh does.
 */
export function fileKeyStore(path: string): AgentKeyStore {
  return {
    async load() {
      const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      if (!info) return undefined;
      if (process.platform !== "win32" && (info.mode & OPEN_MODE_BITS) !== 0) {
        throw new Error(`agent key file ${path} is accessible by others; chmod 600 it`);
      }
      return agentKeyFromPem(await readFile(path, "utf8"));
    },
    async save(key) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const file = await open(path, "wx", 0o600);
      try {
        await file.writeFile(agentKeyToPem(key));
        await file.sync();
      } finally {
        await file.close();
      }
      // The umask may have narrowed the mode further; it must not have widened it.
      await chmod(path, 0o600);
    },
  };
}

/** A key held only in this process (tests, short-lived agents). */
export function memoryKeyStore(initial?: AgentKey): AgentKeyStore {
  let stored = initial;
  return {
    load: async () => stored,
    async save(key) {
      if (stored) throw new Error("a key is already stored");
      stored = key;
    },
  };
}

/** The stored key, or a fresh one generated and stored now. */
export async function loadOrCreateAgentKey(store: AgentKeyStore): Promise<AgentKey> {
  const existing = await store.load();
  if (existing) return existing;
  const key = generateAgentKey();
  await store.save(key);
  return key;
}
