import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import { configurationTable, TABLE_BEGIN, TABLE_END } from "../../../src/config/docs.js";
import { type GatehouseConfig, loadConfig } from "../../../src/config/index.js";
import { describeSettings, REDACTED } from "../../../src/config/redact.js";
import { FIELD_PATHS, FIELDS, type FieldPath } from "../../../src/config/schema.js";
import type { SettingSpec } from "../../../src/config/setting.js";

describe("the configuration table", () => {
  it("is what the README shows (run `npm run docs:config` after changing a setting)", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const begin = readme.indexOf(TABLE_BEGIN);
    const end = readme.indexOf(TABLE_END);
    expect(begin).toBeGreaterThan(0);
    expect(readme.slice(begin + TABLE_BEGIN.length, end).trim()).toBe(configurationTable());
  });

  it("documents every setting, and names each environment variable once", () => {
    const rules: SettingSpec[] = FIELD_PATHS.map((path) => FIELDS[path]);
    expect(rules.filter((rule) => rule.doc.trim() === "")).toEqual([]);
    const names = rules.flatMap((rule) => (rule.env === undefined ? [] : [rule.env]));
    expect(new Set(names).size).toBe(names.length);
  });

  it("gives the configuration its type (checked by the typecheck)", () => {
    expectTypeOf<GatehouseConfig["tokens"]["signingAlg"]>().toEqualTypeOf<"EdDSA" | "ES256">();
    expectTypeOf<GatehouseConfig["limits"]["adaptive"]["threshold"]>().toEqualTypeOf<number>();
    // No default: optional, and absent rather than undefined when unset.
    expectTypeOf<GatehouseConfig["tls"]["certFile"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<
      GatehouseConfig["sidecar"]["routes"][number]["resource"]
    >().toEqualTypeOf<string>();
    expectTypeOf<"limits.adaptive.enabled">().toExtend<FieldPath>();
    expectTypeOf<"limits.adaptive">().not.toExtend<FieldPath>();
  });

  it("gives every default in a form its own parser accepts", () => {
    for (const path of FIELD_PATHS) {
      const rule: SettingSpec = FIELDS[path];
      if (rule.default !== undefined)
        expect(rule.parse(rule.default), path).toMatchObject({ ok: true });
    }
  });
});

describe("describeSettings", () => {
  const secrets = {
    proxy: "p".repeat(32),
    nonce: "n".repeat(32),
    key: Buffer.alloc(32, 7).toString("base64url"),
    redis: "redis://default:hunter2-hunter2@cache.internal:6379",
  };

  it("lists every setting and shows of a secret only that it is set", () => {
    const config = loadConfig({
      mode: "dev",
      env: {
        GATEHOUSE_PROXY_ENABLED: "true",
        GATEHOUSE_PROXY_TRUSTED_PEERS: "10.0.0.1",
        GATEHOUSE_PROXY_HMAC_SECRET: secrets.proxy,
        GATEHOUSE_DPOP_NONCES: "true",
        GATEHOUSE_DPOP_NONCE_SECRET: secrets.nonce,
        GATEHOUSE_KEY_ENCRYPTION_KEY: secrets.key,
        REDIS_URL: secrets.redis,
      },
    });
    const lines = describeSettings(config).split("\n");
    expect(lines).toHaveLength(FIELD_PATHS.length);
    expect(lines).toContain(`proxy.hmac_secret = "${REDACTED}"`);
    expect(lines).toContain(`store.url = "${REDACTED}"`);
    expect(lines).toContain("tokens.default_ttl_seconds = 300");
    expect(lines).toContain("tls.cert_file = (unset)");
    for (const value of Object.values(secrets)) expect(lines.join("\n")).not.toContain(value);
  });
});
