import type { DomainVerificationRecord, OperatorRecord } from "../../store/ports.js";

export type DomainVerificationState = "pending" | "verified" | "expired";

/**
 * The operator's domain proof as it counts. A record without `verification` was written
 * before domain verification existed, when only an admin could create an operator: it counts
 * as admin-attested at creation (never expiring), rather than unverified, so upgrading does
 * not cut every existing operator off from its agents. It has no token: such an operator
 * keeps its attestation and has nothing to publish.
 */
export function domainVerificationOf(operator: OperatorRecord): DomainVerificationRecord {
  return (
    operator.verification ?? {
      token: "",
      method: "admin_attested",
      verifiedAt: operator.createdAt,
    }
  );
}

/** Never verified: pending; verified with no expiry (attested) or before it: verified. */
export function verificationState(
  verification: DomainVerificationRecord,
  now: number,
): DomainVerificationState {
  if (verification.verifiedAt === undefined) return "pending";
  const expired = verification.expiresAt !== undefined && now >= verification.expiresAt;
  return expired ? "expired" : "verified";
}

export function isDomainVerified(operator: OperatorRecord, now: number): boolean {
  return verificationState(domainVerificationOf(operator), now) === "verified";
}
