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
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const KEYS = ["host", "path_prefix", "resource", "audience", "scopes"] as const;
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
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string" && SCOPE.test(s))) {
    problems.push(`${at}.scopes: must be an array of scope names`);
  }
  if (problems.length > before) return undefined;
  return {
    host: host as string,
    pathPrefix: pathPrefix as string,
    resource: resource as string,
    audience: audience as string,
    scopes: scopes as string[],
  };
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
