import { FIELD_PATHS, FIELDS, fileKeyOf } from "./schema.js";
import type { SettingSpec } from "./setting.js";

/** The README's configuration table sits between these lines (`npm run docs:config`). */
export const TABLE_BEGIN =
  "<!-- config-table:begin (generated from src/config/table.ts: npm run docs:config) -->";
export const TABLE_END = "<!-- config-table:end -->";

/** The configuration table in Markdown, one row per setting, in table order. */
export function configurationTable(): string {
  const rows = FIELD_PATHS.map((path) => {
    const rule: SettingSpec = FIELDS[path];
    const env = rule.env === undefined ? "—" : code(rule.env);
    const doc = rule.secret ? `${rule.doc} (secret: never logged or shown)` : rule.doc;
    return `| ${code(tomlKey(path))} | ${env} | ${shownDefault(rule)} | ${escapeCell(doc)} |`;
  });
  return [
    "| setting (TOML) | environment | default | meaning |",
    "|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** `tokens.defaultTtlSeconds` → `[tokens] default_ttl_seconds`; top-level keys stay bare. */
function tomlKey(path: string): string {
  const parts = fileKeyOf(path).split(".");
  const key = parts.pop() as string;
  return parts.length === 0 ? key : `[${parts.join(".")}] ${key}`;
}

function shownDefault(rule: SettingSpec): string {
  if (rule.shownDefault !== undefined) return rule.shownDefault;
  if (rule.default === undefined) return "—";
  return code(String(rule.default));
}

function code(text: string): string {
  return `\`${text}\``;
}

/** A `|` inside a cell would end it. */
function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** `readme` with the text between the markers replaced by the current table. */
export function withConfigurationTable(readme: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error("README.md: configuration table markers not found");
  return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n${configurationTable()}\n${readme.slice(end)}`;
}
