/**
 * A small HDR-style latency histogram over integer microseconds: exact below 2,048 µs, then
 * 1,024 linear sub-buckets per power of two, so every recorded value is kept to within 0.1 %.
 * Fixed memory (~23k counters, up to ~71 minutes), O(1) record, no sorting.
 */
const SUB_BITS = 10;
const SUB_COUNT = 1 << SUB_BITS; // 1024
const EXACT = SUB_COUNT * 2; // values below this have their own bucket
const MAX_SHIFT = 21; // 2^(21+11) µs ≈ 71 minutes
const BUCKETS = EXACT + MAX_SHIFT * SUB_COUNT;

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  private sumUs = 0;
  private maxUs = 0;

  /** Records one duration, in milliseconds. */
  record(ms: number): void {
    const us = Math.max(0, Math.ceil(ms * 1000));
    const index = indexOf(us);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.count += 1;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The value (ms) at or below which `percentile` % of the records fall (bucket upper edge). */
  percentileMs(percentile: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((percentile / 100) * this.count));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(upperEdge(index), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  get maxMs(): number {
    return this.maxUs / 1000;
  }

  get meanMs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count / 1000;
  }
}

function indexOf(us: number): number {
  if (us < EXACT) return us;
  const shift = Math.min(Math.floor(Math.log2(us)) - SUB_BITS, MAX_SHIFT);
  const sub = Math.min(Math.floor(us / 2 ** shift), EXACT - 1); // in [1024, 2047]
  return EXACT + (shift - 1) * SUB_COUNT + (sub - SUB_COUNT);
}

/** The largest value that lands in bucket `index`. */
function upperEdge(index: number): number {
  if (index < EXACT) return index;
  const shift = Math.floor((index - EXACT) / SUB_COUNT) + 1;
  const sub = ((index - EXACT) % SUB_COUNT) + SUB_COUNT;
  return (sub + 1) * 2 ** shift - 1;
}
