import { Resolver } from "node:dns/promises";
import { GatehouseError } from "../errors/index.js";
import { verificationFailed } from "./failure.js";

export interface DnsLookupOptions {
  /** `ip` or `ip:port` (`[v6]:port`); empty: the system's resolvers. */
  readonly servers: readonly string[];
  /** The whole check's bound; a query is sent again once, halfway. */
  readonly timeoutMs: number;
}

/** The lookups a check makes, each cut short when the check's deadline (`signal`) passes. */
export interface DnsLookup {
  /**
   * The TXT records at `name`, each record's character-strings joined without separator
   * (RFC 1035 §3.3.14 splits long text into 255-octet strings; RFC 7208 §3.3 joins them so).
   * None when the name or the record does not exist.
   */
  txt(name: string, signal: AbortSignal): Promise<string[]>;
  /** Every A and AAAA address of `name`, A first. None when neither exists. */
  addresses(name: string, signal: AbortSignal): Promise<string[]>;
}

/** NXDOMAIN, and a name without a record of the type asked: "no record", not a fault. */
const ABSENT = new Set(["ENOTFOUND", "ENODATA"]);
const TRIES = 2;

export function createDnsLookup(options: DnsLookupOptions): DnsLookup {
  const timeout = Math.max(1, Math.floor(options.timeoutMs / TRIES));

  async function query<T>(signal: AbortSignal, run: (resolver: Resolver) => Promise<T>) {
    if (signal.aborted) throw timedOut();
    // One resolver per check, so cancel() aborts this check's queries and no others.
    const resolver = new Resolver({ timeout, tries: TRIES });
    if (options.servers.length > 0) resolver.setServers([...options.servers]);
    const cancel = () => resolver.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    try {
      return await run(resolver);
    } catch (error) {
      throw lookupFailure(error, signal);
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  }

  return {
    txt: (name, signal) =>
      query(signal, async (resolver) =>
        (await orNone(resolver.resolveTxt(name))).map((strings) => strings.join("")),
      ),
    addresses: (name, signal) =>
      query(signal, async (resolver) => {
        const [v4, v6] = await Promise.all([
          orNone(resolver.resolve4(name)),
          orNone(resolver.resolve6(name)),
        ]);
        return [...v4, ...v6];
      }),
  };
}

async function orNone<T>(lookup: Promise<T[]>): Promise<T[]> {
  try {
    return await lookup;
  } catch (error) {
    if (ABSENT.has(codeOf(error))) return [];
    throw error;
  }
}

function lookupFailure(error: unknown, signal: AbortSignal): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const code = codeOf(error);
  if (signal.aborted || code === "ETIMEOUT" || code === "ECANCELLED") return timedOut();
  return verificationFailed(`DNS lookup failed (${code || "no answer"})`);
}

function timedOut(): GatehouseError {
  return verificationFailed("DNS lookup timed out");
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : "";
}
