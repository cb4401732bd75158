import { HttpError } from "./http-error.js";

export interface RouteShape {
  readonly method: "GET" | "POST";
  /** An exact path, or a pattern whose capture groups become the parameters. */
  readonly path: string | RegExp;
}

export interface Match<R extends RouteShape> {
  readonly route: R;
  readonly params: readonly string[];
}

/** The route for `method` and `path`: 404 when no route has the path, 405 when none the method. */
export function matchRoute<R extends RouteShape>(
  routes: readonly R[],
  method: string | undefined,
  path: string,
): Match<R> {
  const matches = routes.flatMap((route) => {
    const params = paramsOf(route.path, path);
    return params ? [{ route, params }] : [];
  });
  if (matches.length === 0) throw new HttpError(404, "unknown path");
  const match = matches.find(({ route }) => route.method === method);
  if (match) return match;
  const allow = [...new Set(matches.map(({ route }) => route.method))].join(", ");
  throw new HttpError(405, "method not allowed", { allow });
}

function paramsOf(pattern: string | RegExp, path: string): string[] | undefined {
  if (typeof pattern === "string") return pattern === path ? [] : undefined;
  const found = pattern.exec(path);
  return found ? found.slice(1) : undefined;
}
