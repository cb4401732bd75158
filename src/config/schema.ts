import type { LOG_LEVELS } from "../observability/log-levels.js";
import {
  fileKeyOf,
  flattenSettings,
  type Infer,
  isSetting,
  type PathsOf,
  type SettingAt,
  type SettingSpec,
  type SettingsTree,
  type ValueAt,
} from "./setting.js";
import { type SERVER_ROLES, SETTINGS, type SIGNING_ALGS } from "./table.js";

export { LOG_LEVELS } from "../observability/log-levels.js";
export { fileKeyOf } from "./setting.js";
export { SERVER_ROLES, SETTINGS, SIGNING_ALGS } from "./table.js";

export type Mode = "dev" | "serve";
export type LogLevel = (typeof LOG_LEVELS)[number];
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export type ServerRole = (typeof SERVER_ROLES)[number];

/** The configuration as the table declares it, before the refinements below. */
type Declared = Infer<typeof SETTINGS>;

/** Where the state lives: the Redis settings exist only when Redis is chosen. */
export type StoreConfig =
  | { readonly kind: "embedded" }
  | { readonly kind: "redis"; readonly url: string; readonly cluster: boolean };

/** Peers and secret are kept only when enabled: a disabled proxy holds no secret in memory. */
export type ProxyConfig =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      readonly trustedPeers: readonly string[];
      readonly hmacSecret: string;
      readonly maxAgeSeconds: number;
    };

/** The whole configuration, derived from the table; `loadConfig` returns it deeply frozen. */
export interface GatehouseConfig extends Omit<Declared, "store" | "proxy"> {
  readonly mode: Mode;
  readonly store: StoreConfig;
  readonly proxy: ProxyConfig;
}

export type Endpoint = Declared["grpc"];
export type TlsConfig = Declared["tls"];
export type AttestationConfig = Declared["attestation"];
export type KeysConfig = Declared["keys"];
export type RuntimeConfig = Declared["runtime"];
export type DpopConfig = Declared["dpop"];
export type VerifyCacheConfig = Declared["verify"];
export type AuditConfig = Declared["audit"];
export type DomainsConfig = Declared["domains"];
export type ApprovalConfig = Declared["approval"];
export type SidecarConfig = Declared["sidecar"];
export type MetricsConfig = Declared["metrics"];
export type LimitsConfig = Declared["limits"];
export type TransportLimits = Declared["transport"];

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Programmatic settings (tests, CLI flags); they win over every other source. */
export type ConfigOverrides = DeepPartial<Omit<GatehouseConfig, "mode">>;

/** Every setting's dotted path in `GatehouseConfig`. */
export type FieldPath = PathsOf<typeof SETTINGS>;
export type FieldValue<P extends FieldPath> = ValueAt<typeof SETTINGS, P>;

/** Every setting by its dotted path, in table order. */
export const FIELDS = Object.fromEntries(flattenSettings(SETTINGS)) as {
  readonly [P in FieldPath]: SettingAt<typeof SETTINGS, P>;
};
export const FIELD_PATHS = Object.keys(FIELDS) as FieldPath[];

/** The declared defaults (unparsed: `dataDir` is relative here). TLS files have none. */
type Defaults<T> = {
  readonly [K in keyof T as T[K] extends SettingSpec
    ? T[K] extends { readonly default: unknown }
      ? K
      : never
    : K]: T[K] extends { readonly default: infer D } ? D : Defaults<T[K]>;
};

export const DEFAULTS = defaultsOf(SETTINGS) as Defaults<typeof SETTINGS>;

function defaultsOf(tree: SettingsTree): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(tree).flatMap(([key, node]) => {
      if (!isSetting(node)) return [[key, defaultsOf(node)]];
      return node.default === undefined ? [] : [[key, node.default]];
    }),
  );
}

export function envVarOf(path: FieldPath): string | undefined {
  const rule: SettingSpec = FIELDS[path];
  return rule.env;
}

export function isFieldPath(path: string): path is FieldPath {
  return Object.hasOwn(FIELDS, path);
}

/** How a setting is named in problems and docs: its file key, and its variable if any. */
export function settingLabel(path: FieldPath): string {
  const env = envVarOf(path);
  return env === undefined ? fileKeyOf(path) : `${fileKeyOf(path)} / ${env}`;
}

/** How long verifiers may cache the JWKS (GetJwks `cache_max_age_seconds`). */
export const JWKS_MAX_AGE_SECONDS = 300;
/**
 * How long a key one replica adds takes at most to reach every other replica's JWKS: the
 * invalidation bus delivers it within about a second (src/app/compose.ts: a replica
 * reloads its key ring on the message); if the message is lost (pub/sub is at most once),
 * the key ring's periodic reload, which runs this often, finds it.
 */
export const KEY_PROPAGATION_BOUND_SECONDS = 60;
/**
 * A new key must be in every JWKS a verifier may hold before it signs: the verifier may
 * have fetched the JWKS just before the key reached the replica it asked.
 */
export const MIN_KEY_PUBLICATION_DELAY_SECONDS =
  JWKS_MAX_AGE_SECONDS + KEY_PROPAGATION_BOUND_SECONDS;
