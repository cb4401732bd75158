import { describe, expect, it } from "vitest";
import {
  domainVerificationOf,
  isDomainVerified,
  verificationState,
} from "../../../../src/services/registry/domain-verification.js";
import type { OperatorRecord } from "../../../../src/store/ports.js";

const CREATED = 1_700_000_000_000;
const operator = (verification?: OperatorRecord["verification"]): OperatorRecord => ({
  domain: "example.com",
  displayName: "",
  status: "active",
  createdAt: CREATED,
  ...(verification && { verification }),
});

describe("where an operator's domain proof stands", () => {
  it("is pending until verified, verified until it expires, then expired", () => {
    const checked = { token: "t", method: "dns_txt" as const, verifiedAt: 10, expiresAt: 20 };
    expect(verificationState({ token: "t" }, 0)).toBe("pending");
    expect(verificationState(checked, 19)).toBe("verified");
    expect(verificationState(checked, 20)).toBe("expired");
    expect(isDomainVerified(operator({ token: "t" }), 0)).toBe(false);
    expect(isDomainVerified(operator(checked), 20)).toBe(false);
  });

  it("never expires an attestation", () => {
    const attested = { token: "t", method: "admin_attested" as const, verifiedAt: 10 };
    expect(verificationState(attested, Number.MAX_SAFE_INTEGER)).toBe("verified");
  });

  it("counts a record from before verification existed as attested at creation", () => {
    expect(domainVerificationOf(operator())).toEqual({
      token: "",
      method: "admin_attested",
      verifiedAt: CREATED,
    });
    expect(isDomainVerified(operator(), Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});
