import { compareSigningKeys, DuplicateIdError } from "../common.js";
import type { SigningKeyRecord, SigningKeyStore } from "../ports.js";
import { isObject, type Persist } from "./snapshot.js";

/** The signing keys file's content (private keys in PEM: the file is mode 0600). */
export interface SigningKeysSnapshot {
  readonly version: 1;
  readonly keys: readonly SigningKeyRecord[];
}

export function parseSigningKeysSnapshot(data: unknown, source: string): SigningKeysSnapshot {
  const valid =
    isObject(data) &&
    data.version === 1 &&
    Array.isArray(data.keys) &&
    data.keys.every(
      (k) => isObject(k) && typeof k.kid === "string" && typeof k.createdAt === "number",
    );
  if (!valid) throw new Error(`${source} is not a Gatehouse signing keys file (version 1)`);
  return data as unknown as SigningKeysSnapshot;
}

/** In-memory signing keys, kept sorted by `compareSigningKeys`. */
export class MemorySigningKeys implements SigningKeyStore {
  readonly #keys = new Map<string, SigningKeyRecord>();
  readonly #persist: Persist;

  constructor(persist: Persist, initial?: SigningKeysSnapshot) {
    this.#persist = persist;
    this.restore(initial);
  }

  restore(snapshot: SigningKeysSnapshot | undefined): void {
    this.#keys.clear();
    for (const key of snapshot?.keys ?? []) this.#keys.set(key.kid, key);
  }

  snapshot(): SigningKeysSnapshot {
    return { version: 1, keys: this.#sorted() };
  }

  async list(): Promise<readonly SigningKeyRecord[]> {
    return this.#sorted();
  }

  async add(key: SigningKeyRecord): Promise<void> {
    if (this.#keys.has(key.kid)) throw new DuplicateIdError("signing key kid");
    this.#keys.set(key.kid, key);
    await this.#persist();
  }

  #sorted(): SigningKeyRecord[] {
    return [...this.#keys.values()].sort(compareSigningKeys);
  }
}
