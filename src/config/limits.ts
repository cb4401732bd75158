import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";

/** Calls allowed per window (`limits.windowSeconds`); 0 turns that limit off. */
export interface RateLimits {
  readonly challengePerIdentity: number;
  readonly challengePerAddress: number;
  readonly submitPerIdentity: number;
  readonly submitPerAddress: number;
}

/**
 * Per-kind overrides, by kind name (`signature`, `iterated_hash`, …: the ChallengeKind name
 * in lowercase). A kind that overrides a limit counts it in a bucket of its own.
 */
export type KindLimits = Readonly<Record<string, Partial<RateLimits>>>;

export interface LimitsConfig extends RateLimits {
  readonly maxMessageBytes: number;
  readonly windowSeconds: number;
  readonly kinds: KindLimits;
  /** Above `threshold` challenges per window, an identity must first solve a hashcash. */
  readonly adaptive: { readonly enabled: boolean; readonly threshold: number };
}

/** The highest limit: the sliding-window log keeps one entry per counted call. */
export const MAX_RATE_LIMIT = 100_000;

/** Every ChallengeKind name but UNSPECIFIED, lowercased: the keys of `limits.kinds`. */
export const KIND_NAMES: readonly string[] = Object.values(ChallengeKind)
  .filter((value): value is number => typeof value === "number" && value !== 0)
  .map((value) => kindName(value));

export function kindName(kind: ChallengeKind): string {
  return (ChallengeKind[kind] ?? String(kind)).toLowerCase();
}

const LIMIT_NAMES = [
  "challengePerIdentity",
  "challengePerAddress",
  "submitPerIdentity",
  "submitPerAddress",
] as const satisfies readonly (keyof RateLimits)[];

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Parses the file-only table `[limits.kinds.<kind>]`. Its keys are snake_case in a file
 * (`challenge_per_identity`) and camelCase in programmatic overrides; both are accepted.
 */
export function kindLimitsTable(value: unknown): Parsed<KindLimits> {
  if (!isTable(value)) return { ok: false, problem: "must be a table of challenge kinds" };
  const kinds: Record<string, Partial<RateLimits>> = {};
  const problems: string[] = [];
  for (const [kind, table] of Object.entries(value)) {
    if (!KIND_NAMES.includes(kind)) {
      problems.push(`unknown kind "${kind}" (one of ${KIND_NAMES.join(", ")})`);
    } else if (!isTable(table)) {
      problems.push(`${kind}: must be a table`);
    } else {
      kinds[kind] = kindTable(kind, table, problems);
    }
  }
  return problems.length === 0
    ? { ok: true, value: kinds }
    : { ok: false, problem: problems.join("; ") };
}

function kindTable(kind: string, table: Record<string, unknown>, problems: string[]) {
  const limits: Partial<Record<keyof RateLimits, number>> = {};
  for (const [key, limit] of Object.entries(table)) {
    const name = LIMIT_NAMES.find((candidate) => candidate === camelCase(key));
    if (name === undefined) problems.push(`${kind}: unknown key "${key}"`);
    else if (isLimit(limit)) limits[name] = limit;
    else problems.push(`${kind}.${key}: must be an integer 0..${MAX_RATE_LIMIT}`);
  }
  return limits;
}

function isLimit(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_RATE_LIMIT;
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Bounds on every listener (gRPC, Connect and the approval page), so that one client cannot
 * hold memory or connections without bound. Read by src/server/transport-limits.ts.
 */
export interface TransportLimits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS each HTTP/2 connection advertises (RFC 9113 §6.5.2). */
  readonly maxConcurrentStreams: number;
  /**
   * SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2: names, values and 32 octets a field);
   * on HTTP/1.1 (the approval page) the largest header section.
   */
  readonly maxHeaderListBytes: number;
  /** Header fields a request may carry (pseudo-header fields included on HTTP/2). */
  readonly maxHeaderPairs: number;
  /**
   * How long a client has to complete the TLS handshake, and then each request, from its first
   * header to its last byte: an HTTP/2 stream still open for receiving after this is reset.
   */
  readonly requestTimeoutMs: number;
  /** A connection with no request open for this long is closed (GOAWAY on HTTP/2). */
  readonly idleTimeoutMs: number;
  /** Open connections from one client address to one listener; beyond it, closed at once. */
  readonly maxConnectionsPerAddress: number;
  /** Memory one HTTP/2 connection may hold in its HTTP/2 state (node:http2 maxSessionMemory). */
  readonly maxSessionMemoryMb: number;
}
