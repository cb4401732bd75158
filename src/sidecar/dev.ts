import { randomBytes } from "node:crypto";
import type { GatehouseConfig } from "../config/index.js";
import { envVarOf, type FieldPath } from "../config/schema.js";
import { deepFreeze } from "../freeze.js";

/**
 * `gatehouse dev` runs the sidecar in its own process, so the two can share a proxy secret no
 * one else ever sees: when no proxy is configured, Gatehouse trusts a proxy on loopback with a
 * fresh random secret for this run (a configured proxy is kept). Unless a public URL is set,
 * the metadata advertises the sidecar's loopback URL, when its port is known in advance. The
 * Auth4Agent-style routes are on in dev; the AOG ones only when configured.
 */
export function withDevSidecar(config: GatehouseConfig): GatehouseConfig {
  const { sidecar } = config;
  const scheme = sidecar.plainHttp ? "http" : "https";
  const publicUrl =
    sidecar.publicUrl ?? (sidecar.port === 0 ? undefined : `${scheme}://127.0.0.1:${sidecar.port}`);
  return deepFreeze({
    ...config,
    proxy: config.proxy.enabled
      ? config.proxy
      : {
          enabled: true,
          trustedPeers: ["127.0.0.1", "::1"],
          hmacSecret: randomBytes(32).toString("base64url"),
          maxAgeSeconds: 30,
        },
    // The Auth4Agent-style routes need no setting; the AOG ones need an audience and scopes.
    sidecar: {
      ...sidecar,
      legacyAuth4agent: true,
      ...(publicUrl === undefined ? {} : { publicUrl }),
    },
  });
}

/**
 * What `gatehouse dev`'s server workers (`workers` > 1, on Redis) must be told by the process
 * that serves the sidecar: each worker loads its configuration itself, so a proxy secret made up
 * there would not be the one the sidecar signs with, and every forwarded identity would be
 * refused. Empty when the proxy was configured (the workers read the same settings).
 */
export function devWorkerEnv(
  loaded: GatehouseConfig,
  dev: GatehouseConfig,
): Record<string, string> {
  if (loaded.proxy.enabled || !dev.proxy.enabled) return {};
  const { trustedPeers = [], hmacSecret = "", maxAgeSeconds } = dev.proxy;
  const values: [FieldPath, string][] = [
    ["proxy.enabled", "true"],
    ["proxy.trustedPeers", trustedPeers.join(",")],
    ["proxy.hmacSecret", hmacSecret],
    ["proxy.maxAgeSeconds", String(maxAgeSeconds)],
  ];
  return Object.fromEntries(values.map(([path, value]) => [envNameOf(path), value]));
}

function envNameOf(path: FieldPath): string {
  const name = envVarOf(path);
  if (name === undefined) throw new Error(`${path} has no environment variable`);
  return name;
}
