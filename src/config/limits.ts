import { ChallengeKind } from "../../gen/gatehouse/v1/gate_pb.js";
import type { Parsed } from "./setting.js";

export type { LimitsConfig, TransportLimits } from "./schema.js";

/** Calls allowed per window (`limits.windowSeconds`); 0 turns that limit off. */
export type RateLimits = { readonly [K in (typeof LIMIT_NAMES)[number]]: number };

/**
 * Per-kind overrides, by kind name (`signature`, `iterated_hash`, …: the ChallengeKind name
 * in lowercase). A kind that overrides a limit counts it in a bucket of its own.
 */
export type KindLimits = Readonly<Record<string, Partial<RateLimits>>>;

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
] as const;

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
