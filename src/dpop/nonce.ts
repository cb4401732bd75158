import { createHmac } from "node:crypto";
import type { Clock } from "../clock.js";
import { constantTimeEqual } from "../crypto/constant-time.js";

/** Domain separation: this key signs nothing but DPoP nonces. */
const LABEL = "gatehouse-dpop-nonce\0v1\0";
/** 128 bits of MAC: unguessable, short enough for a header. */
const MAC_BYTES = 16;

export interface NonceSource {
  /** The nonce for the current time slot (RFC 9449 §8 `DPoP-Nonce`). */
  current(): string;
  /** True for the nonce of the current or the previous slot. */
  isValid(nonce: string): boolean;
}

/**
 * Stateless server nonces (RFC 9449 §8, §9): HMAC-SHA256 over a time slot with a server
 * secret. Nothing is stored, and every replica configured with the same secret
 * (`dpop.nonceSecret`) issues and accepts the same nonces. A nonce is accepted during its
 * slot and the next one, so a client always has at least one full slot to use it.
 */
export function createNonceSource(secret: string, slotSeconds: number, clock: Clock): NonceSource {
  const key = Buffer.from(secret, "utf8");
  const slotOf = () => Math.floor(clock.now() / 1000 / slotSeconds);
  const mac = (slot: number) =>
    createHmac("sha256", key)
      .update(`${LABEL}${slot}`)
      .digest()
      .subarray(0, MAC_BYTES)
      .toString("base64url");
  // A slot's nonce is a pure function of the slot: the last two computed are kept (the
  // current and the previous slot), so a Verify answer does not cost an HMAC each.
  const recent = new Map<number, string>();
  const nonceFor = (slot: number): string => {
    let nonce = recent.get(slot);
    if (nonce === undefined) {
      nonce = mac(slot);
      if (recent.size >= 2) recent.clear();
      recent.set(slot, nonce);
    }
    return nonce;
  };
  return {
    current: () => nonceFor(slotOf()),
    isValid(nonce) {
      const slot = slotOf();
      return [slot, slot - 1].some((candidate) => constantTimeEqual(nonce, nonceFor(candidate)));
    },
  };
}
