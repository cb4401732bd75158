/**
 * The forward-auth route table (`[[sidecar.routes]]`, file only): which protected resource a
 * proxied request is for, by host and path prefix, and what its token must carry.
 */
export interface ForwardAuthRoute {
  /** Lowercase host (no port) the request names; `*` matches any host. */
  readonly host: string;
  /** Path prefix, starting with `/`; the longest matching prefix wins. */
  readonly pathPrefix: string;
  /** The protected resource's canonical URI (RFC 8707, RFC 9728). */
  readonly resource: string;
  /** The audience the token must carry; defaults to `resource`. */
  readonly audience: string;
  /** Scopes every request to this route needs. */
  readonly scopes: readonly string[];
  /**
   * An MCP server (MCP authorization, 2026-07-28): its tokens' audience is the resource's
   * canonical URI, and `mcpScopes` add scopes per JSON-RPC method and tool, prompt or
   * resource name (mcp.ts).
   */
  readonly mcp: boolean;
  readonly mcpScopes: readonly McpScopeRule[];
}

/** Scopes a request needs when it names this MCP method (and, if set, this name). */
export interface McpScopeRule {
  /** The JSON-RPC method, e.g. `tools/call` (the `Mcp-Method` header). */
  readonly method: string;
  /** The tool or prompt name or resource URI (the `Mcp-Name` header); absent: any. */
  readonly name?: string;
  readonly scopes: readonly string[];
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const KEYS = [
  "host",
  "path_prefix",
  "resource",
  "audience",
  "scopes",
  "mcp",
  "mcp_scopes",
] as const;
const MCP_RULE_KEYS = ["method", "name", "scopes"];
const MCP_METHOD = /^[A-Za-z0-9_./-]{1,128}$/;
const HOST = /^(\*|[a-z0-9.-]{1,253})$/;
const SCOPE = /^[A-Za-z0-9:._/-]{1,128}$/;

/** Parses the array of route tables, reporting every problem at once. */
export function forwardAuthRoutes(value: unknown): Parsed<readonly ForwardAuthRoute[]> {
  if (!Array.isArray(value)) return { ok: false, problem: "must be an array of route tables" };
  const problems: string[] = [];
  const routes = value.flatMap((entry, i) => {
    const route = parseRoute(entry, `routes[${i}]`, problems);
    return route === undefined ? [] : [route];
  });
  return problems.length === 0
    ? { ok: true, value: routes }
    : { ok: false, problem: problems.join("; ") };
}

function parseRoute(entry: unknown, at: string, problems: string[]): ForwardAuthRoute | undefined {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    problems.push(`${at}: must be a table`);
    return undefined;
  }
  const table = entry as Record<string, unknown>;
  const before = problems.length;
  for (const key of Object.keys(table)) {
    if (!(KEYS as readonly string[]).includes(snakeCase(key)))
      problems.push(`${at}: unknown key "${key}"`);
  }
  const read = (key: string): unknown => table[key] ?? table[camelCase(key)];
  const host = read("host") ?? "*";
  const pathPrefix = read("path_prefix") ?? "/";
  const resource = read("resource");
  const audience = read("audience") ?? resource;
  const scopes = read("scopes") ?? [];
  const mcp = read("mcp") ?? false;
  const mcpScopes = parseMcpScopes(read("mcp_scopes") ?? [], `${at}.mcp_scopes`, problems);
  if (typeof host !== "string" || !HOST.test(host))
    problems.push(`${at}.host: must be a lowercase host name or "*"`);
  if (typeof pathPrefix !== "string" || !pathPrefix.startsWith("/")) {
    problems.push(`${at}.path_prefix: must start with "/"`);
  }
  if (!isAbsoluteUrl(resource))
    problems.push(`${at}.resource: must be an absolute http(s) URL without a fragment`);
  if (typeof audience !== "string" || !/^[\x21-\x7e]{1,256}$/.test(audience)) {
    problems.push(`${at}.audience: must be 1..256 printable characters without spaces`);
  }
  if (!isScopeList(scopes)) problems.push(`${at}.scopes: must be an array of scope names`);
  if (typeof mcp !== "boolean") problems.push(`${at}.mcp: must be true or false`);
  if (mcp !== true && mcpScopes.length > 0) problems.push(`${at}.mcp_scopes: needs mcp = true`);
  // MCP authorization, "Token Handling": a token is accepted only if issued for this server.
  if (mcp === true && audience !== resource) {
    problems.push(`${at}.audience: an MCP server's audience is its resource (canonical URI)`);
  }
  if (problems.length > before) return undefined;
  return {
    host: host as string,
    pathPrefix: pathPrefix as string,
    resource: resource as string,
    audience: audience as string,
    scopes: scopes as string[],
    mcp: mcp as boolean,
    mcpScopes,
  };
}

function isScopeList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((s) => typeof s === "string" && SCOPE.test(s));
}

/** `mcp_scopes = [{ method = "tools/call", name = "delete_repo", scopes = ["repo:admin"] }]` */
function parseMcpScopes(value: unknown, at: string, problems: string[]): McpScopeRule[] {
  if (!Array.isArray(value)) {
    problems.push(`${at}: must be an array of tables`);
    return [];
  }
  return value.flatMap((entry, i): McpScopeRule[] => {
    const where = `${at}[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      problems.push(`${where}: must be a table`);
      return [];
    }
    const rule = entry as Record<string, unknown>;
    const before = problems.length;
    for (const key of Object.keys(rule)) {
      if (!MCP_RULE_KEYS.includes(key)) problems.push(`${where}: unknown key "${key}"`);
    }
    const { method, name, scopes } = rule;
    if (typeof method !== "string" || !MCP_METHOD.test(method)) {
      problems.push(`${where}.method: must be a JSON-RPC method name such as "tools/call"`);
    }
    if (
      name !== undefined &&
      (typeof name !== "string" || name.length === 0 || name.length > 1024)
    ) {
      problems.push(`${where}.name: must be 1..1024 characters`);
    }
    if (!isScopeList(scopes) || scopes.length === 0) {
      problems.push(`${where}.scopes: must be a non-empty array of scope names`);
    }
    if (problems.length > before) return [];
    return [
      {
        method: method as string,
        ...(name === undefined ? {} : { name: name as string }),
        scopes: scopes as string[],
      },
    ];
  });
}

/** The route for a request: exact host before `*`, then the longest path prefix. */
export function matchRoute(
  routes: readonly ForwardAuthRoute[],
  host: string,
  path: string,
): ForwardAuthRoute | undefined {
  let best: ForwardAuthRoute | undefined;
  const rank = (route: ForwardAuthRoute) =>
    (route.host === "*" ? 0 : 1) * 1e6 + route.pathPrefix.length;
  for (const route of routes) {
    if (route.host !== "*" && route.host !== host) continue;
    if (!pathHasPrefix(path, route.pathPrefix)) continue;
    if (best === undefined || rank(route) > rank(best)) best = route;
  }
  return best;
}

/** `/api` matches `/api` and `/api/x`, not `/apix`: prefixes end at a segment boundary. */
function pathHasPrefix(path: string, prefix: string): boolean {
  if (prefix.endsWith("/")) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

function isAbsoluteUrl(value: unknown): boolean {
  if (typeof value !== "string" || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === "https:" || url.protocol === "http:") &&
    url.hash === "" &&
    url.username === ""
  );
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
