import type { Clock } from "../clock.js";

const DAY_MS = 86_400_000;

/**
 * How far `notBefore` is backdated, so a certificate is already valid on peers
 * whose clocks run a little behind the issuer's.
 */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface ValidityWindow {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The validity window of a certificate issued now for `validityDays` days. */
export function validityWindow(clock: Clock, validityDays: number): ValidityWindow {
  if (!Number.isInteger(validityDays) || validityDays < 1) {
    throw new RangeError(`validityDays must be a positive integer, got ${validityDays}`);
  }
  const now = clock.now();
  return {
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + validityDays * DAY_MS),
  };
}
