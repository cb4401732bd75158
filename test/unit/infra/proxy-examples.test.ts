import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { IDENTITY_HEADERS } from "../../../src/sidecar/forward-auth.js";
import { VENV_PYTHON } from "../../support/tools.js";

const run = promisify(execFile);
const INFRA = join(import.meta.dirname, "../../../infra");

/**
 * A YAML file as JSON, read by PyYAML. The proxies themselves run these files in
 * test/integration/proxy-*.test.ts; these checks hold the files' security settings to what
 * the sidecar's /auth reads and answers, naming the setting when one changes.
 */
async function yaml(file: string): Promise<Record<string, unknown>> {
  const script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))";
  const { stdout } = await run(VENV_PYTHON, ["-c", script, join(INFRA, file)]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** The value at a path of keys (undefined where the path does not exist). */
function dig(value: unknown, ...path: string[]): unknown {
  let node = value;
  for (const key of path) {
    node =
      typeof node === "object" && node !== null
        ? (node as Record<string, unknown>)[key]
        : undefined;
  }
  return node;
}

/** The first listener's HTTP connection manager. */
function connectionManager(config: unknown): unknown {
  const listener = list(dig(config, "static_resources", "listeners"))[0];
  return list(dig(list(dig(listener, "filter_chains"))[0], "filters"))[0];
}

function list(value: unknown): unknown[] {
  expect(Array.isArray(value)).toBe(true);
  return value as unknown[];
}

describe("proxy examples for the sidecar's /auth", () => {
  it("Traefik forwardAuth asks /auth over TLS and passes on Gatehouse's identity headers", async () => {
    const config = await yaml("traefik/forward-auth.yml");
    const forwardAuth = dig(config, "http", "middlewares", "gatehouse", "forwardAuth");
    const address = new URL(String(dig(forwardAuth, "address")));
    expect(address.pathname).toBe("/auth");
    expect(address.protocol).toBe("https:");
    expect(Object.keys(dig(forwardAuth, "tls") as object).sort()).toEqual(["ca", "cert", "key"]);
    const headers = list(dig(forwardAuth, "authResponseHeaders")).map((h) =>
      String(h).toLowerCase(),
    );
    expect(headers.sort()).toEqual(Object.values(IDENTITY_HEADERS).sort());
    // Only what /auth reads: a client's own X-Original-* or X-Forwarded-* must not reach it.
    const sent = list(dig(forwardAuth, "authRequestHeaders")).map((h) => String(h).toLowerCase());
    expect(sent.sort()).toEqual([
      "authorization",
      "dpop",
      "gatehouse-amount",
      "mcp-method",
      "mcp-name",
      "mcp-protocol-version",
    ]);
    expect(dig(forwardAuth, "trustForwardHeader")).toBe(false);
    expect(dig(config, "http", "routers", "app", "middlewares")).toEqual(["gatehouse"]);
  });

  it.each(["envoy/envoy.yaml", "envoy/http-ext-authz.yaml"])(
    "%s serves no admin interface, drops underscore headers and fails closed",
    async (file) => {
      const config = await yaml(file);
      expect(dig(config, "admin")).toBeUndefined();
      const manager = connectionManager(config);
      expect(
        dig(
          manager,
          "typed_config",
          "common_http_protocol_options",
          "headers_with_underscores_action",
        ),
      ).toBe("DROP_HEADER");
      const extAuthz = dig(
        list(dig(manager, "typed_config", "http_filters")).find(
          (f) => dig(f, "name") === "envoy.filters.http.ext_authz",
        ),
        "typed_config",
      );
      expect(dig(extAuthz, "failure_mode_allow")).toBe(false);
      expect(dig(extAuthz, "status_on_error", "code")).toBe("ServiceUnavailable");
    },
  );

  it("Envoy's HTTP ext_authz fails closed and sends what /auth reads", async () => {
    const config = await yaml("envoy/http-ext-authz.yaml");
    const filters = list(dig(connectionManager(config), "typed_config", "http_filters"));
    const extAuthz = dig(
      filters.find((f) => dig(f, "name") === "envoy.filters.http.ext_authz"),
      "typed_config",
    );
    expect(dig(extAuthz, "@type")).toBe(
      "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
    );
    expect(dig(extAuthz, "failure_mode_allow")).toBe(false);
    const service = dig(extAuthz, "http_service");
    expect(dig(service, "path_prefix")).toBe("/auth");
    expect(dig(extAuthz, "status_on_error", "code")).toBe("ServiceUnavailable");
    const patterns = dig(extAuthz, "allowed_headers", "patterns");
    const sent = list(patterns).map((p) => dig(p, "exact"));
    for (const name of ["authorization", "dpop", "gatehouse-amount", "mcp-protocol-version"]) {
      expect(sent).toContain(name);
    }
    expect(sent).toEqual(expect.arrayContaining(["mcp-method", "mcp-name"]));
    expect(dig(service, "authorization_response", "allowed_upstream_headers", "patterns")).toEqual([
      { prefix: "x-gatehouse-" },
    ]);
    // The router comes last: nothing reaches the application before the decision.
    expect(dig(filters.at(-1), "name")).toBe("envoy.filters.http.router");
  });
});
