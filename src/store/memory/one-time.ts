import type { Clock } from "../../clock.js";
import { assertPositiveInteger, DuplicateIdError, toJson } from "../common.js";
import type { ConsumeResult, OneTimeStore } from "../ports.js";
import { ExpiringMap } from "./expiring-map.js";

interface OneTimeEntry {
  readonly json: string;
  /** Set by the first consume; the entry stays until its TTL so replays are recognised. */
  used: boolean;
}

/**
 * In-memory single-use records. `consume` checks and marks in one synchronous step (no
 * await in between), so of any number of concurrent callers exactly one gets the value.
 */
export function createMemoryOneTimeStore<T>(clock: Clock): OneTimeStore<T> {
  const records = new ExpiringMap<OneTimeEntry>(clock);

  return {
    async put(id, value, ttlMs) {
      assertPositiveInteger("ttlMs", ttlMs);
      const json = toJson(value);
      if (records.get(id) !== undefined) throw new DuplicateIdError("one-time record id");
      records.set(id, { json, used: false }, clock.now() + ttlMs);
    },

    async consume(id): Promise<ConsumeResult<T>> {
      const entry = records.get(id)?.value;
      if (entry === undefined) return { status: "not_found" };
      if (entry.used) return { status: "already_used" };
      entry.used = true;
      return { status: "ok", value: JSON.parse(entry.json) as T };
    },
  };
}
