import {
  type HttpRequest,
  type HttpResponse,
  header,
  methodIsOneOf,
  READ_METHODS,
  sendJson,
} from "./http-io.js";
import type { ForwardAuthRoute } from "./route-table.js";

/** RFC 9728 §3: the well-known path, before the resource's own path. */
export const PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource";

/**
 * RFC 9728 §3.1: where a resource's metadata is — its origin, the well-known path, then the
 * resource's path (none for a resource at the origin's root).
 */
export function resourceMetadataUrl(route: ForwardAuthRoute): string {
  const url = new URL(route.resource);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}${PROTECTED_RESOURCE_PATH}${path}`;
}

/**
 * Protected-resource metadata (RFC 9728 §2) for each resource of the route table, found by the
 * host the proxy forwards and the path after the well-known prefix: the resource, the one
 * authorization server (Gatehouse's issuer), the scopes its routes need, and that tokens are
 * sent in the Authorization header (RFC 6750 §2.1). A document is read with GET or HEAD; other
 * methods get 405 with `Allow`. Returns false when none matches.
 */
export function createProtectedResourceMetadata(
  routes: readonly ForwardAuthRoute[],
  issuer: string,
) {
  return (req: HttpRequest, res: HttpResponse, url: URL): boolean => {
    if (!url.pathname.startsWith(PROTECTED_RESOURCE_PATH)) return false;
    const suffix = url.pathname.slice(PROTECTED_RESOURCE_PATH.length);
    const authority = header(req.headers, "x-forwarded-host") ?? header(req.headers, "host") ?? "";
    const host = authority.toLowerCase().replace(/:\d+$/, "");
    const matching = routes.filter((route) => {
      const resource = new URL(route.resource);
      const path = resource.pathname === "/" ? "" : resource.pathname.replace(/\/$/, "");
      return path === suffix && (route.host === "*" || route.host === host);
    });
    const [first] = matching.sort((a, b) => (a.host === "*" ? 1 : 0) - (b.host === "*" ? 1 : 0));
    if (first === undefined) return false;
    if (!methodIsOneOf(req, res, READ_METHODS)) return true;
    const scopes = [
      ...new Set(matching.filter((r) => r.resource === first.resource).flatMap((r) => r.scopes)),
    ];
    sendJson(
      res,
      200,
      {
        resource: first.resource,
        authorization_servers: [issuer],
        scopes_supported: scopes,
        bearer_methods_supported: ["header"],
        dpop_bound_access_tokens_required: false,
      },
      { "cache-control": "public, max-age=300" },
    );
    return true;
  };
}
