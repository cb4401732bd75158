import { isReasoningFamily, REASONING_FAMILIES } from "./family-names.js";

/** Per-family overrides of `challenges.reasoningDifficulty` and `reasoningDeadlineSeconds`. */
export interface ReasoningFamilySettings {
  readonly difficulty?: number;
  readonly deadlineSeconds?: number;
}

export type ReasoningFamilyTable = Readonly<Record<string, ReasoningFamilySettings>>;

export const REASONING_DIFFICULTY_RANGE = [1, 5] as const;
export const REASONING_DEADLINE_RANGE = [1, 600] as const;

const KEYS = {
  difficulty: REASONING_DIFFICULTY_RANGE,
  deadlineSeconds: REASONING_DEADLINE_RANGE,
} as const;

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Parses the file-only table `[challenges.reasoning_families.<family>]`. Keys are snake_case
 * in a file (`deadline_seconds`) and camelCase in programmatic overrides; both are accepted.
 */
export function reasoningFamilyTable(value: unknown): Parsed<ReasoningFamilyTable> {
  if (!isTable(value)) return { ok: false, problem: "must be a table of reasoning families" };
  const families: Record<string, ReasoningFamilySettings> = {};
  const problems: string[] = [];
  for (const [family, table] of Object.entries(value)) {
    if (!isReasoningFamily(family)) {
      problems.push(
        `unknown reasoning family "${family}" (one of ${REASONING_FAMILIES.join(", ")})`,
      );
    } else if (!isTable(table)) {
      problems.push(`${family}: must be a table`);
    } else {
      families[family] = familySettings(family, table, problems);
    }
  }
  return problems.length === 0
    ? { ok: true, value: families }
    : { ok: false, problem: problems.join("; ") };
}

function familySettings(family: string, table: Record<string, unknown>, problems: string[]) {
  const settings: { -readonly [K in keyof ReasoningFamilySettings]: number } = {};
  for (const [key, setting] of Object.entries(table)) {
    const name = Object.keys(KEYS).find((k) => k === camelCase(key)) as
      | keyof typeof KEYS
      | undefined;
    if (name === undefined) {
      problems.push(`${family}: unknown key "${key}" (difficulty, deadline_seconds)`);
      continue;
    }
    const [min, max] = KEYS[name];
    if (Number.isInteger(setting) && (setting as number) >= min && (setting as number) <= max) {
      settings[name] = setting as number;
    } else problems.push(`${family}.${key}: must be an integer ${min}..${max}`);
  }
  return settings;
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
