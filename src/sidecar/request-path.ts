/**
 * The path a forward-auth route is chosen by: the original request's path as the upstream will
 * resolve it, or `undefined` when servers could resolve it differently (the caller denies).
 *
 * The order is what keeps a lenient route from judging a request that reaches a strict one:
 *   1. the raw target's path, up to its first `?` or `#` (RFC 3986 §3.3: only a raw one ends
 *      the path; an encoded `%3F` or `%23` is data, and must not become a delimiter);
 *   2. percent-encoded unreserved characters decoded (RFC 3986 §6.2.2.2: `%2E` is `.`), so
 *      `%2e%2e` is a dot-segment;
 *   3. dot-segments removed segment by segment (RFC 3986 §5.2.4), the segments still encoded;
 *   4. each segment decoded for matching.
 * Ambiguous paths are refused rather than guessed: a segment that decodes to a `/` or `\`
 * (one server splits there, another does not), a NUL, a dot-segment with parameters (`..;`,
 * which servlet containers resolve as `..`), a malformed escape, or an empty segment before a
 * `..` (`/a//../b`: `/a/b` by RFC 3986, `/b` for nginx, which merges slashes first).
 */
export function routePath(target: string): string | undefined {
  const path = target.split(/[?#]/, 1)[0] ?? "";
  if (!path.startsWith("/")) return undefined;
  const segments = path.slice(1).split("/");
  const out: string[] = [];
  for (const [i, raw] of segments.entries()) {
    const last = i === segments.length - 1;
    const segment = decodeUnreserved(raw);
    if (segment === "." || segment === "..") {
      if (segment === ".." && out.at(-1) === "") return undefined; // `//..`: see above
      if (segment === "..") out.pop();
      if (last) out.push("");
      continue;
    }
    const decoded = decodeSegment(segment);
    if (decoded === undefined) return undefined;
    out.push(decoded);
  }
  // Empty segments (`//`) match as one slash, as the route table's prefixes are written.
  return `/${out.join("/")}`.replace(/\/{2,}/g, "/");
}

const UNRESERVED_ESCAPE = /%(2[dDeE]|3\d|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;

/** `%41` → `A`, `%2E` → `.`: the escapes of unreserved characters only (RFC 3986 §2.3). */
function decodeUnreserved(segment: string): string {
  return segment.replace(UNRESERVED_ESCAPE, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** The segment's characters, or undefined when the segment is ambiguous (see `routePath`). */
function decodeSegment(segment: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  if (/[/\\\0]/.test(decoded)) return undefined;
  const beforeParams = decoded.split(";", 1)[0];
  if (decoded.includes(";") && (beforeParams === "." || beforeParams === "..")) return undefined;
  return decoded;
}
