import { isIP } from "node:net";
import { resolve } from "node:path";
import type { Parsed, Parser } from "./setting.js";

/**
 * The parsers settings are declared with (src/config/table.ts). Each accepts a TOML value and
 * the string form an environment variable or a CLI flag gives; a problem never quotes a secret.
 */
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1"]);

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (problem: string): Parsed<never> => ({ ok: false, problem });

/** How a problem quotes a (non-secret) value. */
function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "a table";
  return String(value);
}

/** Accepts numbers, and decimal strings (environment variables, CLI flags). */
export function integer(min: number, max: number): Parser<number> {
  return (value) => {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max
      ? ok(n)
      : fail(`must be an integer ${min}..${max}, got ${shown(value)}`);
  };
}

/** More processes on one machine than this is a typo, not a deployment: run more replicas instead. */
const MAX_WORKERS = 64;

/** Processes sharing one set of ports (src/app/workers.ts): `workers`, `sidecar.workers`. */
export const workerCount: Parser<number> = integer(1, MAX_WORKERS);

export function boolean(value: unknown): Parsed<boolean> {
  if (value === true || value === "true" || value === "1") return ok(true);
  if (value === false || value === "false" || value === "0") return ok(false);
  return fail(`must be true or false, got ${shown(value)}`);
}

export function oneOf<T extends string>(options: readonly T[]): Parser<T> {
  return (value) =>
    options.includes(value as T)
      ? ok(value as T)
      : fail(`must be one of ${options.join(", ")}; got ${shown(value)}`);
}

export function absolutePath(value: unknown): Parsed<string> {
  return typeof value === "string" && value.trim() !== ""
    ? ok(resolve(value))
    : fail(`must be a non-empty path, got ${shown(value)}`);
}

export function host(value: unknown): Parsed<string> {
  return typeof value === "string" && (isIP(value) !== 0 || DNS_NAME.test(value.toLowerCase()))
    ? ok(value)
    : fail(`must be a hostname or IP address, got ${shown(value)}`);
}

export function trustDomain(value: unknown): Parsed<string> {
  return typeof value === "string" && DNS_NAME.test(value)
    ? ok(value)
    : fail(`must be a lowercase DNS name, got ${shown(value)}`);
}

export function issuerUrl(value: unknown): Parsed<string> {
  if (typeof value !== "string" || !URL.canParse(value)) {
    return fail(`must be an https URL, got ${shown(value)}`);
  }
  const url = new URL(value);
  if (url.username !== "" || url.password !== "") return fail("must not contain credentials");
  if (/[?#]/.test(value)) return fail(`must not have a query or fragment, got ${shown(value)}`);
  const secure = url.protocol === "https:";
  const localHttp = url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
  return secure || localHttp
    ? ok(value)
    : fail(`must be an https URL (http only for localhost), got ${shown(value)}`);
}

/** Printable ASCII, no spaces (issuer and audience identifiers). */
export function text(maxLength: number): Parser<string> {
  return (value) =>
    typeof value === "string" && value.length <= maxLength && /^[\x21-\x7e]+$/.test(value)
      ? ok(value)
      : fail(`must be 1..${maxLength} printable characters without spaces, got ${shown(value)}`);
}

/** An https URL without credentials (fetched by the server). */
export function httpsUrl(value: unknown): Parsed<string> {
  if (typeof value === "string" && URL.canParse(value)) {
    const url = new URL(value);
    if (url.protocol === "https:" && url.username === "" && url.password === "") return ok(value);
  }
  return fail("must be an https URL without credentials (value not shown)");
}

/** An https origin, nothing after the port: the approval page's WebAuthn origin. */
export function httpsOrigin(value: unknown): Parsed<string> {
  if (typeof value === "string" && URL.canParse(value)) {
    const { protocol, origin } = new URL(value);
    if (protocol === "https:" && origin === value.replace(/\/$/, "")) return ok(origin);
  }
  return fail(`must be an https origin (https://host or https://host:port), got ${shown(value)}`);
}

/** The URL may hold a password: problems never quote it. */
export function redisUrl(value: unknown): Parsed<string> {
  if (typeof value === "string" && URL.canParse(value)) {
    const { protocol, host } = new URL(value);
    if ((protocol === "redis:" || protocol === "rediss:") && host !== "") return ok(value);
  }
  return fail("invalid URL: must be redis://… or rediss://… (value not shown)");
}

/** IP addresses and CIDR blocks: a TOML array, or comma-separated (environment, flags). */
export function ipList(value: unknown): Parsed<readonly string[]> {
  const entries = typeof value === "string" ? value.split(",").map((e) => e.trim()) : value;
  if (!Array.isArray(entries) || entries.length === 0) {
    return fail(`must list IP addresses or CIDR blocks, got ${shown(value)}`);
  }
  const invalid = entries.find((entry) => !isIpOrCidr(entry));
  return invalid === undefined
    ? ok(entries as string[])
    : fail(`must list IP addresses or CIDR blocks, got ${shown(invalid)}`);
}

/** `host:port` or `[ipv6]:port`: an address to dial. */
export function hostPort(value: unknown): Parsed<string> {
  const match =
    typeof value === "string"
      ? (/^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:]+):(\d{1,5})$/.exec(value))
      : null;
  const [address = "", port = "0"] = match ? [match[1], match[2]] : [];
  const valid = (isIP(address) !== 0 || DNS_NAME.test(address.toLowerCase())) && Number(port) >= 1;
  return valid && Number(port) <= 65_535
    ? ok(value as string)
    : fail(`must be host:port, got ${shown(value)}`);
}

/** DNS resolvers, `ip`, `ip:port` or `[ipv6]:port`: a TOML array, or comma-separated. */
export function dnsServerList(value: unknown): Parsed<readonly string[]> {
  const entries = typeof value === "string" ? value.split(",").map((e) => e.trim()) : value;
  if (!Array.isArray(entries)) return fail(`must list DNS server addresses, got ${shown(value)}`);
  const invalid = entries.find((entry) => !isDnsServer(entry));
  return invalid === undefined
    ? ok(entries as string[])
    : fail(`must list DNS server addresses (ip or ip:port), got ${shown(invalid)}`);
}

function isDnsServer(entry: unknown): boolean {
  if (typeof entry !== "string") return false;
  const withPort = /^\[([^\]]+)\]:(\d{1,5})$/.exec(entry) ?? /^([^:]+):(\d{1,5})$/.exec(entry);
  const [address, port] = withPort ? [withPort[1] ?? "", Number(withPort[2])] : [entry, 53];
  return isIP(address) !== 0 && port >= 1 && port <= 65_535;
}

function isIpOrCidr(entry: unknown): boolean {
  if (typeof entry !== "string") return false;
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  const maxPrefix = family === 4 ? 32 : 128;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
}

/** A key: long enough to resist guessing; problems never quote it. */
export function secret(minBytes: number): Parser<string> {
  return (value) =>
    typeof value === "string" && Buffer.byteLength(value) >= minBytes
      ? ok(value)
      : fail(`must be at least ${minBytes} bytes (value not shown)`);
}

/** 32 bytes, base64 or base64url (padding optional); problems never quote it. */
export function aes256Key(value: unknown): Parsed<string> {
  const problem = "must be 32 bytes, base64 or base64url encoded (value not shown)";
  if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) return fail(problem);
  return Buffer.from(value, "base64").length === 32 ? ok(value) : fail(problem);
}

/**
 * Scope names (a list, or comma-separated in the environment), at most 64; an empty list is
 * the "none" default (a check that needs scopes says so, `src/config/checks.ts`).
 */
export function scopeList(value: unknown): Parsed<readonly string[]> {
  const entries = typeof value === "string" ? value.split(",").map((e) => e.trim()) : value;
  const valid =
    Array.isArray(entries) &&
    entries.length <= 64 &&
    entries.every((entry) => typeof entry === "string" && /^[A-Za-z0-9:._/-]{1,128}$/.test(entry));
  return valid
    ? ok(entries as string[])
    : fail(`must list at most 64 scope names, got ${shown(value)}`);
}
