import { describe, expect, it } from "vitest";
import { sourceAddress, UNKNOWN_SOURCE } from "../../../src/identity/source-address.js";

describe("sourceAddress", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["127.0.0.1:54321", "127.0.0.1"],
    ["ipv4:127.0.0.1:54321", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["ipv6:[::ffff:10.1.2.3]:443", "10.1.2.3"],
    ["::1", "0:0:0:0::/64"],
    ["ipv6:[::1]:5432", "0:0:0:0::/64"],
    ["[2001:db8::1]:443", "2001:db8:0:0::/64"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
  ])("reads %j as %j", (peer, expected) => {
    expect(sourceAddress(peer)).toBe(expected);
  });

  it("counts one IPv6 /64 as one source", () => {
    expect(sourceAddress("2001:db8:a:b::1")).toBe(sourceAddress("2001:db8:a:b:ffff::2"));
    expect(sourceAddress("2001:db8:a:b::1")).not.toBe(sourceAddress("2001:db8:a:c::1"));
  });

  it.each(["", "unknown", "unix:/tmp/socket", "999.1.1.1"])(
    "puts an unreadable peer %j in the shared unknown bucket",
    (peer) => {
      expect(sourceAddress(peer)).toBe(UNKNOWN_SOURCE);
    },
  );
});
