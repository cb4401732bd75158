import { BlockList, isIP } from "node:net";

/** Whether an address is in a configured list of IPs and CIDR blocks. */
export type AddressMatcher = (address: string) => boolean;

/**
 * A matcher over entries the config schema validated (an IP, or an IP and a prefix length).
 * Anything that is not an IP address matches nothing (fail closed).
 */
export function createAddressMatcher(entries: readonly string[]): AddressMatcher {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const type = isIP(address) === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
  };
}
