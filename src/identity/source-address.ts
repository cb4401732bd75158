import { isIP } from "node:net";

/** The bucket of every caller whose address cannot be read: limited together, never unlimited. */
export const UNKNOWN_SOURCE = "unknown";

/**
 * The rate-limit subject for a peer address, from either transport: a bare address
 * (connect-node's socket address, or grpc-js's peer once the transport dropped the port),
 * `ipv4:A:port` / `ipv6:[A]:port` (gRPC's URI form), or `[A]:port`.
 *
 * IPv4-mapped IPv6 (a dual-stack listener) becomes plain IPv4, so one client is one subject
 * on both ports. Other IPv6 addresses count by their /64: a single host is usually given a
 * whole /64, so limiting each of its 2^64 addresses apart would limit nothing.
 */
export function sourceAddress(peerAddress: string): string {
  const address = bareAddress(peerAddress);
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return UNKNOWN_SOURCE;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}

function bareAddress(peerAddress: string): string {
  const address = peerAddress.replace(/^ipv[46]:/, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1] !== undefined) return withoutZone(bracketed[1]);
  // Only an IPv4 address can carry an unbracketed port unambiguously.
  const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(address);
  return ipv4WithPort?.[1] ?? withoutZone(address);
}

/** A link-local zone (`fe80::1%eth0`) names an interface of ours, not the peer. */
function withoutZone(address: string): string {
  return address.replace(/%.*$/, "");
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, IPv4 tail converted). */
function ipv6Groups(address: string): number[] {
  const ipv4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  let text = address;
  if (ipv4Tail) {
    const [a, b, c, d] = ipv4Tail.slice(1).map(Number) as [number, number, number, number];
    const tail = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    text = address.slice(0, ipv4Tail.index) + tail;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string): number[] =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const left = parse(head);
  const right = parse(tail ?? "");
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...new Array<number>(zeros).fill(0), ...right];
}
