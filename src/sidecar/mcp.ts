import { type HttpRequest, headerOnce } from "./http-io.js";
import type { ForwardAuthRoute } from "./route-table.js";

/**
 * The first MCP revision whose servers must reject a request whose `Mcp-Method` or
 * `Mcp-Name` header disagrees with its body (Streamable HTTP, "Server Validation"): from it
 * on, the headers say what the MCP server will run. Versions are dates (YYYY-MM-DD) and
 * compare as strings.
 */
export const MCP_VALIDATED_HEADERS_SINCE = "2026-07-28";

const VERSION = /^\d{4}-\d{2}-\d{2}$/;
/** Streamable HTTP, "Value Encoding": `=?base64?<Base64 of the UTF-8 value>?=`. */
const SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;

/**
 * The scopes a request to `route` needs: the route's own, plus, for an MCP server, those its
 * `mcp_scopes` give the request's method and name — read from the `Mcp-Method` and
 * `Mcp-Name` headers only when `MCP-Protocol-Version` is one in which the MCP server must
 * refuse headers that disagree with the body, so the headers name what will run. For any
 * other version (or none) the headers are unchecked: the route's own scopes apply.
 * "malformed" for a header that is repeated or whose encoding is broken (the server would
 * refuse it; the proxy denies it first).
 */
export function requiredScopes(
  route: ForwardAuthRoute,
  req: HttpRequest,
): readonly string[] | "malformed" {
  if (route.mcpScopes.length === 0) return route.scopes;
  const version = headerOnce(req, "mcp-protocol-version");
  const method = headerOnce(req, "mcp-method");
  const rawName = headerOnce(req, "mcp-name");
  if (version === null || method === null || rawName === null) return "malformed";
  if (version === undefined || !VERSION.test(version) || version < MCP_VALIDATED_HEADERS_SINCE) {
    return route.scopes;
  }
  const name = rawName === undefined ? undefined : decodeName(rawName);
  if (name === null) return "malformed";
  const scopes = new Set(route.scopes);
  for (const rule of route.mcpScopes) {
    if (rule.method !== method) continue;
    if (rule.name !== undefined && rule.name !== name) continue;
    for (const scope of rule.scopes) scopes.add(scope);
  }
  return [...scopes];
}

/** A plain value as sent, or the sentinel's value decoded (strict Base64, valid UTF-8). */
function decodeName(value: string): string | null {
  const match = SENTINEL.exec(value);
  if (match === null) return value.startsWith("=?base64?") ? null : value;
  const encoded = match[1] ?? "";
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.toString("base64") !== encoded) return null; // not canonical Base64
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
