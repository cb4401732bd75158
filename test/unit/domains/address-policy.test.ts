import { describe, expect, it } from "vitest";
import { isPublicUnicast } from "../../../src/domains/address-policy.js";

describe("addresses a domain proof may be fetched from", () => {
  it("allows public unicast only", () => {
    for (const address of ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946"]) {
      expect(isPublicUnicast(address), address).toBe(true);
    }
  });

  it("refuses every special-purpose block", () => {
    const refused = [
      "0.0.0.0", // unspecified
      "127.0.0.1", // loopback
      "10.0.0.1", // RFC 1918
      "172.16.5.4",
      "192.168.1.1",
      "169.254.169.254", // link-local (cloud metadata)
      "100.64.0.1", // carrier-grade NAT
      "224.0.0.1", // multicast
      "255.255.255.255", // broadcast
      "192.0.2.1", // documentation
      "240.0.0.1", // reserved
      "::", // unspecified
      "::1", // loopback
      "fe80::1", // link-local
      "fc00::1", // unique-local
      "fd12:3456::1",
      "ff02::1", // multicast
      "::ffff:127.0.0.1", // IPv4-mapped
      "::ffff:10.0.0.1",
      "64:ff9b::a00:1", // NAT64 (RFC 6052)
      "2002:a00:1::", // 6to4
      "2001:db8::1", // documentation
      "not an address",
    ];
    for (const address of refused) expect(isPublicUnicast(address), address).toBe(false);
  });
});
