import { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../../errors/index.js";
import { sourceAddress } from "../../../identity/source-address.js";
import type { RateLimiter } from "../../../store/ports.js";
import type { CallContext } from "../../types.js";

/**
 * The most DID-proof challenges issued for one DID within one challenge lifetime (so at most
 * that many are live), in total and from one source address. Anyone may ask for a DID-proof
 * challenge for any registered DID, so without a bound a flood from many addresses grows the
 * store for that DID without limit. The per-address share keeps one address from taking the
 * DID's whole budget: to hold all of it a flooder needs PER_DID / PER_DID_AND_ADDRESS = 32
 * addresses (IPv6: /64s) every challenge lifetime. Stored records (kept EXPIRED_RECORD_GRACE_MS
 * past their deadline) stay below PER_DID × (TTL + grace) / TTL: 1,536 at the default 60 s TTL
 * (about 0.5 MB). An agent needs one live challenge per login; eight per challenge lifetime
 * from one address leave room for retries and a few instances behind one NAT.
 */
export const LIVE_DID_PROOFS = { perDid: 256, perDidAndAddress: 8 } as const;

/**
 * Counts one DID-proof challenge about to be issued for `did`; throws RATE_LIMITED (with the
 * wait until a slot frees) when the DID, or the DID from this address, is at its bound. Called
 * after the other limits and the registry read, before anything is stored: a refusal costs
 * two rate-limit hits and no signature work. The address share is hit first, so an address
 * over its share takes nothing from the DID's total.
 */
export function createLiveDidProofBound(rateLimits: RateLimiter) {
  return async (did: string, call: CallContext, ttlMs: number): Promise<void> => {
    const address = sourceAddress(call.peerAddress);
    const buckets = [
      [`did-proof:live:${did}@${address}`, LIVE_DID_PROOFS.perDidAndAddress],
      [`did-proof:live:${did}`, LIVE_DID_PROOFS.perDid],
    ] as const;
    for (const [key, limit] of buckets) {
      const hit = await rateLimits.hit(key, limit, ttlMs);
      if (!hit.allowed) {
        throw new GatehouseError(Reason.RATE_LIMITED, { retryAfterMs: hit.retryAfterMs });
      }
    }
  };
}
