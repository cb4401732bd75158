import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../../../src/errors/index.js";
import { createClientAddressOf } from "../../../src/sidecar/client-address.js";
import type { HttpRequest } from "../../../src/sidecar/http-io.js";

/** What the reader looks at: the socket's peer and the headers (Node's parsed form). */
const request = (remoteAddress: string, forwardedFor?: string | string[]) =>
  ({
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
  }) as unknown as HttpRequest;

describe("the HTTP caller's address", () => {
  const addressOf = createClientAddressOf(["10.0.0.0/8", "::1"]);

  it("is the TCP peer's, whatever X-Forwarded-For says, from a peer not trusted", () => {
    expect(addressOf(request("192.0.2.1", "198.51.100.7"))).toEqual({
      address: "192.0.2.1",
      viaForwarder: false,
    });
    expect(createClientAddressOf()(request("10.0.0.1", "198.51.100.7")).address).toBe("10.0.0.1");
  });

  it("is the last X-Forwarded-For entry from a trusted forwarder: the one it added", () => {
    const cases: [string | string[], string][] = [
      ["198.51.100.7", "198.51.100.7"],
      ["203.0.113.9, 198.51.100.7", "198.51.100.7"],
      [["203.0.113.9", "2001:db8::7"], "2001:db8::7"],
      [" 198.51.100.7 ", "198.51.100.7"],
    ];
    for (const [header, address] of cases) {
      expect(addressOf(request("10.1.2.3", header))).toEqual({ address, viaForwarder: true });
    }
    expect(addressOf(request("::1", "198.51.100.7")).address).toBe("198.51.100.7");
  });

  it("refuses a trusted forwarder's request naming no valid address (fail closed)", () => {
    for (const header of [undefined, "", "198.51.100.7, ", "unknown", "198.51.100.7:443"]) {
      let thrown: unknown;
      try {
        addressOf(request("10.1.2.3", header));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(GatehouseError);
      expect((thrown as GatehouseError).reason).toBe(Reason.FORWARDED_IDENTITY_INVALID);
    }
  });
});
