import { describe, expect, it } from "vitest";
import { createManualClock } from "../../../src/clock.js";
import { FORWARDED_HEADERS, forwardedMacMatches } from "../../../src/identity/forwarded.js";
import { createForwardedHeaders } from "../../../src/sidecar/upstream.js";

const SECRET = "s".repeat(32);
const AUTHORITY = "127.0.0.1:7443";
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB/x==\n-----END CERTIFICATE-----\n";
const VERIFY = "/gatehouse.v1.VerifyService/Verify";

describe("the sidecar's forwarded identity headers", () => {
  const clock = createManualClock(1_700_000_000_000);
  const headersFor = createForwardedHeaders({ address: AUTHORITY, hmacSecret: SECRET, clock });

  /** Whether Gatehouse's check accepts `headers` as sent for `path`. */
  const verifies = (headers: Readonly<Record<string, string>>, path: string) =>
    forwardedMacMatches(
      SECRET,
      {
        kind: "cert",
        value: headers[FORWARDED_HEADERS.cert] ?? "",
        address: headers[FORWARDED_HEADERS.address] ?? "",
        at: headers[FORWARDED_HEADERS.at] ?? "",
        authority: AUTHORITY,
        target: path,
      },
      headers[FORWARDED_HEADERS.mac] ?? "",
    );

  it("binds the certificate, address, second and method under a MAC Gatehouse accepts", () => {
    const headers = headersFor(VERIFY, { certificatePem: PEM, address: "192.0.2.7" });
    expect(headers[FORWARDED_HEADERS.cert]).toBe(encodeURIComponent(PEM));
    expect(headers[FORWARDED_HEADERS.at]).toBe("1700000000");
    expect(verifies(headers, VERIFY)).toBe(true);
    expect(verifies(headers, "/gatehouse.v1.GateService/Challenge")).toBe(false);
  });

  it("are computed once per caller, address, method and second, and anew after", () => {
    const first = headersFor(VERIFY, { certificatePem: PEM, address: "192.0.2.7" });
    expect(headersFor(VERIFY, { certificatePem: PEM, address: "192.0.2.7" })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const elsewhere = headersFor(VERIFY, { certificatePem: PEM, address: "192.0.2.8" });
    expect(elsewhere[FORWARDED_HEADERS.address]).toBe("192.0.2.8");
    expect(verifies(elsewhere, VERIFY)).toBe(true);
    clock.advance(1_000);
    const later = headersFor(VERIFY, { certificatePem: PEM, address: "192.0.2.7" });
    expect(later[FORWARDED_HEADERS.at]).toBe("1700000001");
    expect(later[FORWARDED_HEADERS.mac]).not.toBe(first[FORWARDED_HEADERS.mac]);
    expect(verifies(later, VERIFY)).toBe(true);
  });

  it("keep a call without an address apart from one with an empty address", () => {
    const none = headersFor(VERIFY, { certificatePem: PEM });
    const empty = headersFor(VERIFY, { certificatePem: PEM, address: "" });
    expect(none[FORWARDED_HEADERS.address]).toBeUndefined();
    expect(empty[FORWARDED_HEADERS.address]).toBe("");
  });

  it("carry nothing for the sidecar's own calls", () => {
    expect(headersFor(VERIFY, "sidecar")).toEqual({});
  });
});
