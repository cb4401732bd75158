import { GatehouseClientError, Reason } from "../errors.js";

export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  readonly attempts?: number;
  /** The first backoff ceiling; doubles per attempt (default 200 ms). */
  readonly baseDelayMs?: number;
  /** The largest backoff ceiling (default 5 s). */
  readonly maxDelayMs?: number;
  /** A server-requested wait longer than this is not waited for: the error is thrown (default 60 s). */
  readonly maxRetryAfterMs?: number;
  /** Waits `ms`; injectable so tests (and manual clocks) need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1); injectable for deterministic tests. */
  readonly random?: () => number;
}

/** RetryOptions with every default filled in. */
export type RetryPolicy = Required<RetryOptions>;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every default filled in one place. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    attempts: options.attempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 5_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    sleep: options.sleep ?? sleepFor,
    random: options.random ?? Math.random,
  };
}

/**
 * How long to wait before attempt `attempt + 1`: "full jitter" exponential backoff (a random
 * wait up to min(max, base · 2^attempt)), but never less than what the server asked for.
 * Undefined: do not retry (the server asked for longer than `maxRetryAfterMs`).
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = Math.floor(policy.random() * ceiling);
  return retryAfterMs === undefined ? jittered : retryAfterMs + Math.min(jittered, 1_000);
}

/** Refusals worth another try: Gatehouse asked to wait, or could not answer now. */
export function isRetryable(error: unknown): error is GatehouseClientError {
  return (
    error instanceof GatehouseClientError &&
    (error.reason === Reason.RATE_LIMITED || error.reason === Reason.UNAVAILABLE)
  );
}

/** Runs `call`, retrying RATE_LIMITED and UNAVAILABLE refusals with backoff and jitter. */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = retryPolicy(options);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryable(error) || attempt + 1 >= policy.attempts) throw error;
      const delay = backoffDelay(policy, attempt, error.retryAfterMs);
      if (delay === undefined) throw error;
      await policy.sleep(delay);
    }
  }
}

/**
 * An HTTP `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, in
 * milliseconds from `nowMs`; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date names its day (`Sun, 06 Nov 1994 08:49:37 GMT`); anything else is not one.
  const date = /^[A-Za-z]{3}, /.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
