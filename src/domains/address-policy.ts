import ipaddr from "ipaddr.js";

/**
 * Whether a domain proof may be fetched from `address`: only public unicast. ipaddr.js names
 * the special-purpose blocks of the IANA registries (RFC 6890): unspecified, loopback,
 * private (RFC 1918), link-local (RFC 3927, RFC 4291 §2.5.6), unique-local (RFC 4193),
 * carrier-grade NAT (RFC 6598), multicast, broadcast, documentation and other reserved
 * blocks, IPv4-mapped and translated IPv6 (RFC 4291 §2.5.5.2, RFC 6052, RFC 6145), 6to4 and
 * Teredo. Anything it does not call "unicast" is refused, so a block it learns to name later
 * is refused too (fail closed): the server never becomes a way into its own network.
 */
export function isPublicUnicast(address: string): boolean {
  return ipaddr.isValid(address) && ipaddr.parse(address).range() === "unicast";
}
