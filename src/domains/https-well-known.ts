import { constantTimeEqual } from "../crypto/constant-time.js";
import { isPublicUnicast } from "./address-policy.js";
import type { DnsLookup } from "./dns-lookup.js";
import { verificationFailed } from "./failure.js";
import { WELL_KNOWN_PATH } from "./locations.js";
import { pinnedGet } from "./pinned-get.js";

export interface WellKnownSettings {
  readonly dns: DnsLookup;
  readonly port: number;
  /** Tests only: fetch from loopback and private addresses too. */
  readonly allowPrivateAddresses: boolean;
  readonly maxBodyBytes: number;
  readonly ca: readonly string[] | undefined;
}

/**
 * The HTTPS proof: `https://<domain>[:port]/.well-known/gatehouse-verification` answers 200
 * with the token as its body (surrounding whitespace ignored). The domain is resolved with
 * the configured resolvers, and every address it has must be public unicast: one private
 * address refuses it, before any connection, since which address a client ends up using is
 * the domain owner's choice. The file is then fetched from the first address, pinned.
 */
export async function checkWellKnown(
  settings: WellKnownSettings,
  domain: string,
  token: string,
  signal: AbortSignal,
): Promise<void> {
  const addresses = await settings.dns.addresses(domain, signal);
  const [address] = addresses;
  if (address === undefined) throw verificationFailed("the domain has no A or AAAA record");
  if (!settings.allowPrivateAddresses && !addresses.every(isPublicUnicast)) {
    throw verificationFailed("the domain resolves to a non-public address");
  }
  const body = await pinnedGet({
    address,
    hostname: domain,
    port: settings.port,
    path: WELL_KNOWN_PATH,
    ca: settings.ca,
    maxBodyBytes: settings.maxBodyBytes,
    signal,
  });
  if (!constantTimeEqual(body.toString("utf8").trim(), token)) {
    throw verificationFailed("the well-known file does not hold the verification token");
  }
}
