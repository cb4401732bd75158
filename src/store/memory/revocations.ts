import type { Clock } from "../../clock.js";
import { assertPositiveInteger } from "../common.js";
import type { RevocationKind, RevocationStore } from "../ports.js";
import { ExpiringMap } from "./expiring-map.js";
import { isObject, type Persist } from "./snapshot.js";

/** The expiry of a revocation kept for good (JSON-safe, unlike Infinity). */
const FOREVER = Number.MAX_SAFE_INTEGER;

interface Revocation {
  readonly kind: RevocationKind;
  readonly id: string;
  /** Unix ms on the store's clock. */
  readonly expiresAt: number;
}

/** An agent's issued-until watermark. */
interface Watermark {
  readonly did: string;
  /** Tokens with `iat` at or before this (Unix ms) are revoked. */
  readonly at: number;
  readonly expiresAt: number;
}

/** The revocations file's content: only entries still live when it was written. */
export interface RevocationsSnapshot {
  readonly version: 1;
  readonly revoked: readonly Revocation[];
  /** Absent in files written before watermarks existed. */
  readonly issuedUntil?: readonly Watermark[];
}

const KINDS: readonly unknown[] = ["token", "agent_key"] satisfies RevocationKind[];

export function parseRevocationsSnapshot(data: unknown, source: string): RevocationsSnapshot {
  const valid =
    isObject(data) &&
    data.version === 1 &&
    Array.isArray(data.revoked) &&
    data.revoked.every(
      (r) =>
        isObject(r) &&
        KINDS.includes(r.kind) &&
        typeof r.id === "string" &&
        typeof r.expiresAt === "number",
    ) &&
    (data.issuedUntil === undefined ||
      (Array.isArray(data.issuedUntil) &&
        data.issuedUntil.every(
          (w) =>
            isObject(w) &&
            typeof w.did === "string" &&
            typeof w.at === "number" &&
            typeof w.expiresAt === "number",
        )));
  if (!valid) throw new Error(`${source} is not a Gatehouse revocations file (version 1)`);
  return data as unknown as RevocationsSnapshot;
}

/**
 * In-memory revocation list. Revoking again never shortens a revocation: the later of
 * the two expiries wins, so a short TTL cannot un-revoke a long-lived credential.
 */
export class MemoryRevocations implements RevocationStore {
  readonly #clock: Clock;
  readonly #revoked: ExpiringMap<Revocation>;
  readonly #watermarks: ExpiringMap<Watermark>;
  readonly #persist: Persist;

  constructor(clock: Clock, persist: Persist, initial?: RevocationsSnapshot) {
    this.#clock = clock;
    this.#persist = persist;
    this.#revoked = new ExpiringMap(clock);
    this.#watermarks = new ExpiringMap(clock);
    this.restore(initial);
  }

  restore(snapshot: RevocationsSnapshot | undefined): void {
    this.#revoked.clear();
    this.#watermarks.clear();
    const now = this.#clock.now();
    for (const revocation of snapshot?.revoked ?? []) {
      if (revocation.expiresAt > now) this.#set(revocation);
    }
    for (const watermark of snapshot?.issuedUntil ?? []) {
      if (watermark.expiresAt > now) {
        this.#watermarks.set(watermark.did, watermark, watermark.expiresAt);
      }
    }
  }

  snapshot(): RevocationsSnapshot {
    return {
      version: 1,
      revoked: [...this.#revoked.live()].map((entry) => entry.value),
      issuedUntil: [...this.#watermarks.live()].map((entry) => entry.value),
    };
  }

  async revoke(kind: RevocationKind, id: string, ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined) assertPositiveInteger("ttlMs", ttlMs);
    const expiresAt = ttlMs === undefined ? FOREVER : this.#clock.now() + ttlMs;
    const current = this.#revoked.get(key(kind, id));
    if (current !== undefined && current.value.expiresAt >= expiresAt) return;
    this.#set({ kind, id, expiresAt });
    await this.#persist();
  }

  async isRevoked(kind: RevocationKind, id: string): Promise<boolean> {
    return this.#revoked.get(key(kind, id)) !== undefined;
  }

  async revokeIssuedUntil(did: string, atMs: number, ttlMs: number): Promise<void> {
    assertPositiveInteger("atMs", atMs);
    assertPositiveInteger("ttlMs", ttlMs);
    const current = this.#watermarks.get(did)?.value;
    const next: Watermark = {
      did,
      at: Math.max(atMs, current?.at ?? 0),
      expiresAt: Math.max(this.#clock.now() + ttlMs, current?.expiresAt ?? 0),
    };
    if (current !== undefined && current.at === next.at && current.expiresAt === next.expiresAt) {
      return;
    }
    this.#watermarks.set(did, next, next.expiresAt);
    await this.#persist();
  }

  async issuedUntil(did: string): Promise<number | undefined> {
    return this.#watermarks.get(did)?.value.at;
  }

  #set(revocation: Revocation): void {
    this.#revoked.set(key(revocation.kind, revocation.id), revocation, revocation.expiresAt);
  }
}

function key(kind: RevocationKind, id: string): string {
  return `${kind}:${id}`;
}
