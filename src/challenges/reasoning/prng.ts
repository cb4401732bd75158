import { createHash } from "node:crypto";

/** A deterministic stream of choices drawn from a 32-byte seed. */
export interface Rng {
  /** A uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** A new array: a uniform permutation of `items`. */
  shuffle<T>(items: readonly T[]): T[];
  /** True with probability `numerator / denominator`. */
  chance(numerator: number, denominator: number): boolean;
}

const DOMAIN = Buffer.from("GATEHOUSE-REASONING\0v1\0");
const TWO_32 = 2 ** 32;

/**
 * SHA-256 in counter mode: block i = SHA-256(domain ‖ seed ‖ i). The same seed always yields
 * the same instance (so tests can replay one); the server draws the seed from a CSPRNG, so an
 * agent cannot predict the next instance.
 */
export function createRng(seed: Uint8Array): Rng {
  if (seed.length !== 32) throw new RangeError("seed must be 32 bytes");
  let counter = 0;
  let block = Buffer.alloc(0);
  let offset = 0;
  const nextUint32 = (): number => {
    if (offset >= block.length) {
      const index = Buffer.alloc(8);
      index.writeBigUInt64BE(BigInt(counter++));
      block = createHash("sha256").update(DOMAIN).update(seed).update(index).digest();
      offset = 0;
    }
    const value = block.readUInt32BE(offset);
    offset += 4;
    return value;
  };
  // Rejection sampling keeps every outcome equally likely (no modulo bias).
  const below = (n: number): number => {
    if (!(n >= 1 && n <= TWO_32)) throw new RangeError("empty range");
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const value = nextUint32();
      if (value < limit) return value % n;
    }
  };
  const rng: Rng = {
    int: (min, max) => min + below(max - min + 1),
    pick(items) {
      const item = items[below(items.length)];
      if (item === undefined) throw new RangeError("pick from an empty list");
      return item;
    },
    shuffle(items) {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = below(i + 1);
        [out[i], out[j]] = [out[j] as (typeof out)[number], out[i] as (typeof out)[number]];
      }
      return out;
    },
    chance: (numerator, denominator) => below(denominator) < numerator,
  };
  return rng;
}
