import { FIELD_PATHS, FIELDS, type FieldPath, fileKeyOf, type GatehouseConfig } from "./schema.js";
import type { SettingSpec } from "./setting.js";

/** What is shown in place of a secret's value: only whether it is set. */
export const REDACTED = "(set, not shown)";

/** A setting's value in a configuration, undefined when unset (or left out by its shape). */
function valueAt(config: GatehouseConfig, path: FieldPath): unknown {
  return path
    .split(".")
    .reduce<unknown>(
      (node, key) =>
        typeof node === "object" && node !== null
          ? (node as Record<string, unknown>)[key]
          : undefined,
      config,
    );
}

/** Every setting and its value, secrets (the table's `secret`) replaced by `REDACTED`. */
export function redactedSettings(config: GatehouseConfig): [fileKey: string, value: unknown][] {
  return FIELD_PATHS.map((path) => {
    const rule: SettingSpec = FIELDS[path];
    const value = valueAt(config, path);
    return [fileKeyOf(path), rule.secret && value !== undefined ? REDACTED : value];
  });
}

/** `gatehouse config check --all`: every setting a line, `file.key = value`, secrets redacted. */
export function describeSettings(config: GatehouseConfig): string {
  return redactedSettings(config)
    .map(([key, value]) => `${key} = ${value === undefined ? "(unset)" : JSON.stringify(value)}`)
    .join("\n");
}
