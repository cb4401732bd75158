import type { Clock } from "../../clock.js";
import { assertPositiveInteger } from "../common.js";
import type { IssuedTokenRecord, IssuedTokenStore } from "../ports.js";
import { ExpiringMap } from "./expiring-map.js";

/**
 * Issued token ids, in memory only (see IssuedTokenStore): persisting them would rewrite a
 * file on every login. Records are copied in and out, as JSON through Redis would.
 */
export function createMemoryIssuedTokenStore(clock: Clock): IssuedTokenStore {
  const issued = new ExpiringMap<IssuedTokenRecord>(clock);

  return {
    async record(jti, token, ttlMs) {
      assertPositiveInteger("ttlMs", ttlMs);
      issued.set(jti, { ...token }, clock.now() + ttlMs);
    },
    async get(jti) {
      const token = issued.get(jti)?.value;
      return token === undefined ? undefined : { ...token };
    },
  };
}
