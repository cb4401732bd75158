import type { Clock } from "../../clock.js";
import type { GatehouseConfig } from "../../config/index.js";
import type { ClientAddressOf } from "../client-address.js";
import type { RouteHandler } from "../server.js";
import type { Upstream } from "../upstream.js";
import { createAogRoutes } from "./aog/routes.js";
import { createAuth4AgentRoutes } from "./auth4agent/routes.js";

/**
 * The routes of the older agent gates that are switched on (`sidecar.legacy_aog`,
 * `sidecar.legacy_auth4agent`), tried in turn; false when none has the path.
 */
export function createLegacyRoutes(
  config: GatehouseConfig,
  upstream: Upstream,
  publicUrl: string,
  clock: Clock,
  clientAddressOf: ClientAddressOf,
): RouteHandler {
  const { sidecar } = config;
  const handlers: RouteHandler[] = [];
  if (sidecar.legacyAog && sidecar.legacyAogAudience !== undefined) {
    handlers.push(
      createAogRoutes({
        upstream,
        clock,
        clientAddressOf,
        maxBodyBytes: sidecar.maxBodyBytes,
        audience: sidecar.legacyAogAudience,
        scopes: sidecar.legacyAogScopes,
        ...(sidecar.legacyAogHeaderSecret === undefined
          ? {}
          : { headerSecret: sidecar.legacyAogHeaderSecret }),
        acceptUnsignedAutonomy: sidecar.legacyAogUnsignedAutonomy,
        skewSeconds: config.tokens.clockSkewSeconds,
      }),
    );
  }
  if (sidecar.legacyAuth4agent) {
    handlers.push(
      createAuth4AgentRoutes({
        upstream,
        clock,
        clientAddressOf,
        maxBodyBytes: sidecar.maxBodyBytes,
        publicUrl,
      }),
    );
  }
  return async (req, res, url) => {
    for (const handle of handlers) if (await handle(req, res, url)) return true;
    return false;
  };
}
