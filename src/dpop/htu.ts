const MAX_URL_LENGTH = 2048;
/** Bounded (emptied when full); keys are at most MAX_URL_LENGTH characters. */
const MAX_MEMOIZED = 1024;
const normalized = new Map<string, string | undefined>();

/**
 * The `htu` comparison form of a URL (RFC 9449 §4.3 point 9): scheme and host lower-cased,
 * the scheme's default port dropped, an empty path made `/` (RFC 3986 §6.2.2.1 case
 * normalization, §6.2.3 scheme-based normalization), query and fragment removed.
 * Percent-encoded octets are compared as sent (WHATWG URL keeps them; §6.2.2.2 decoding of
 * unreserved characters is not applied), which can only make a match stricter.
 * Undefined when the URL is not an absolute http(s) URL, or carries credentials.
 */
export function normalizeHtu(value: string): string | undefined {
  // A pure function of the string, asked again for every request to the same route.
  if (value.length > MAX_URL_LENGTH) return undefined;
  if (normalized.has(value)) return normalized.get(value);
  const result = parseHtu(value);
  if (normalized.size >= MAX_MEMOIZED) normalized.clear();
  normalized.set(value, result);
  return result;
}

function parseHtu(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_URL_LENGTH || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  if (url.username !== "" || url.password !== "" || url.hostname === "") return undefined;
  // WHATWG URL already lower-cases scheme and host and drops a default port.
  return `${url.protocol}//${url.host}${url.pathname || "/"}`;
}

/**
 * A proof's `htu` claim: RFC 9449 §4.2 defines it "without query and fragment parts", so a
 * claim that has either is refused rather than trimmed (a proof minted for `/a?x=1` is not a
 * proof for every query of `/a`).
 */
export function normalizeClaimedHtu(value: string): string | undefined {
  if (value.includes("?") || value.includes("#")) return undefined;
  return normalizeHtu(value);
}
