/**
 * One setting, declared once: its file key (its path in the table, in snake_case), its
 * environment variable, its default, its parser (with bounds), its documentation and whether
 * it is secret. The configuration's type, its loading, `config check`, the redaction of
 * secrets and the README's table are all derived from these declarations (src/config/table.ts).
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
export type Parser<T> = (value: unknown) => Parsed<T>;

export interface SettingSpec {
  /** The environment variable that sets it; absent: file (and overrides) only. */
  readonly env?: string;
  /** Absent: the setting is optional, and unset leaves it out of the configuration. */
  readonly default?: unknown;
  readonly parse: Parser<unknown>;
  /** One line for the README's table: what it does, and its bounds where they matter. */
  readonly doc: string;
  /** How the README shows a default that is not a value (`dev PKI`, `the issuer`). */
  readonly shownDefault?: string;
  /** Never logged, echoed or described: `config check` and the README say only whether set. */
  readonly secret?: true;
}

/** A section: settings and nested sections, by their camelCase key. */
export interface SettingsTree {
  readonly [key: string]: SettingSpec | SettingsTree;
}

/** Declares a setting; the default, when given, must be a value the parser returns. */
export function setting<const S extends SettingSpec>(spec: S & DefaultOf<S>): S {
  return spec;
}

type DefaultOf<S> = S extends { readonly parse: Parser<infer T> }
  ? { readonly default?: T }
  : never;

type ValueOf<S> = S extends { readonly parse: Parser<infer T> } ? T : never;
type IsOptional<S> = S extends SettingSpec
  ? S extends { readonly default: unknown }
    ? false
    : true
  : false;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The configuration a tree of settings yields: defaulted settings required, others optional. */
export type Infer<T> = Simplify<
  {
    readonly [K in keyof T as IsOptional<T[K]> extends true ? never : K]: T[K] extends SettingSpec
      ? ValueOf<T[K]>
      : Infer<T[K]>;
  } & {
    readonly [K in keyof T as IsOptional<T[K]> extends true ? K : never]?: ValueOf<T[K]>;
  }
>;

/** Every setting's dotted path (`limits.adaptive.enabled`). */
export type PathsOf<T, Prefix extends string = ""> = {
  [K in keyof T & string]: T[K] extends SettingSpec
    ? `${Prefix}${K}`
    : PathsOf<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** The declaration at a dotted path. */
export type SettingAt<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? SettingAt<T[Head], Rest>
    : never
  : P extends keyof T
    ? T[P]
    : never;

/** The value of the setting at a dotted path. */
export type ValueAt<T, P extends string> = ValueOf<SettingAt<T, P>>;

export function isSetting(node: SettingSpec | SettingsTree): node is SettingSpec {
  return typeof node.parse === "function";
}

/** Every setting with its dotted path, in declaration order. */
export function flattenSettings(
  tree: SettingsTree,
  prefix = "",
): [path: string, setting: SettingSpec][] {
  return Object.entries(tree).flatMap(([key, node]) =>
    isSetting(node) ? [[`${prefix}${key}`, node]] : flattenSettings(node, `${prefix}${key}.`),
  );
}

/** The config file key of a setting: its path in snake_case. */
export function fileKeyOf(path: string): string {
  return path.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
