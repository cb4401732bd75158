import { availableParallelism } from "node:os";

/** The benchmark's knobs, all from the environment (see the header of verify.bench.ts). */
export const SCENARIOS = [
  "verify",
  "latency",
  "connect",
  "dpop",
  "check",
  "login",
  "revocation",
  "denials",
  "http",
  "gates",
  "footprint",
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Settings {
  /** Per measured run, and per warm-up. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /**
   * Calls in flight for the RPC runs (health, verify, dpop, check), over `channels`; the
   * latency runs use LATENCY_IN_FLIGHT instead.
   */
  readonly concurrency: number;
  readonly channels: number;
  readonly only: ReadonlySet<Scenario>;
  /** Length of each raw Ed25519-verify loop (one before, one after the load runs). */
  readonly cryptoSeconds: number;
  /** Concurrent agents in the login run: one login in flight each, a certificate each. */
  readonly loginAgents: number;
  /** Revoke → denied-on-the-other-replica trials. */
  readonly revocations: number;
  /** Pause between two Verify polls on replica B. */
  readonly revocationPollMs: number;
  /** A trial whose token is still allowed after this long is an error. */
  readonly revocationTimeoutMs: number;
  /** Denied Verifies (junk tokens) in the Redis-growth run. */
  readonly denials: number;
  /**
   * Server processes per Gatehouse (src/app/workers.ts), and processes per HTTP sidecar in
   * the http scenario. More than 1 puts every scenario's server on Redis, which the workers
   * share; 1 keeps health/verify/dpop/check on the embedded store in one process.
   */
  readonly workers: number;
  /** Footprint run: seconds with nothing to do before reading the idle RSS (and after the load). */
  readonly idleSeconds: number;
  /** Footprint run: seconds of sustained mixed load. */
  readonly sustainSeconds: number;
}

/** The HTTP sidecar runs (forward-auth, REST Verify): 1, 8 and BENCH_CONCURRENCY in flight. */
export function httpInFlight(settings: Settings): number[] {
  return [...new Set([1, 8, settings.concurrency])];
}

/** The latency runs: the empty RPC and Verify with this few calls in flight. */
export const LATENCY_IN_FLIGHT = [1, 8] as const;

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const number = (name: string, fallback: number) => envNumber(env, name, fallback);
  return {
    seconds: number("BENCH_SECONDS", 10),
    warmupSeconds: number("BENCH_WARMUP_SECONDS", 2),
    concurrency: Math.round(number("BENCH_CONCURRENCY", 64)),
    channels: Math.round(number("BENCH_CHANNELS", 4)),
    only: readOnly(env.BENCH_ONLY),
    cryptoSeconds: number("BENCH_CRYPTO_SECONDS", 1),
    loginAgents: Math.round(number("BENCH_LOGIN_AGENTS", 16)),
    revocations: Math.round(number("BENCH_REVOCATIONS", 100)),
    revocationPollMs: number("BENCH_REVOCATION_POLL_MS", 1),
    revocationTimeoutMs: number("BENCH_REVOCATION_TIMEOUT_MS", 5_000),
    denials: Math.round(number("BENCH_DENIALS", 20_000)),
    workers: Math.round(number("BENCH_WORKERS", availableParallelism())),
    idleSeconds: number("BENCH_IDLE_SECONDS", 10),
    sustainSeconds: number("BENCH_SUSTAIN_SECONDS", 300),
  };
}

/** `BENCH_ONLY=verify,dpop`: a comma-separated subset of SCENARIOS; unset or empty = all. */
function readOnly(raw: string | undefined): ReadonlySet<Scenario> {
  if (raw === undefined || raw.trim() === "") return new Set(SCENARIOS);
  const names = raw.split(",").map((name) => name.trim().toLowerCase());
  const unknown = names.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`BENCH_ONLY: unknown ${unknown.join(", ")} (one of ${SCENARIOS.join(", ")})`);
  }
  return new Set(names as Scenario[]);
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}
