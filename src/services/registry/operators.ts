import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
import { AuditEventType as Audited, operatorEvent } from "../../audit/events.js";
import type { AuditEventInput } from "../../audit/writer.js";
import type { Clock } from "../../clock.js";
import { ed25519Thumbprint } from "../../crypto/jose/thumbprint.js";
import { randomId } from "../../crypto/random.js";
import type { DomainVerifier } from "../../domains/index.js";
import { GatehouseError, invalidArgument } from "../../errors/index.js";
import type { Caller } from "../../identity/caller.js";
import type { OperatorRecord, RateLimiter, RegistryStore } from "../../store/ports.js";
import type { ServiceHandlers } from "../types.js";
import { proofMethodFromProto, toOperatorMessage } from "./convert.js";
import { domainVerificationOf } from "./domain-verification.js";
import type { Access } from "./ownership.js";
import { screenedPublicKeyHex } from "./public-key.js";

export interface OperatorDeps {
  readonly registry: RegistryStore;
  readonly rateLimits: RateLimiter;
  readonly clock: Clock;
  /** Awaited: the RPC fails when the audit write fails. */
  readonly audit: (event: AuditEventInput) => Promise<void>;
  readonly domainVerifier: DomainVerifier;
  /** How long a DNS or HTTPS proof holds. */
  readonly verificationTtlSeconds: number;
}

type OperatorHandlers = Pick<
  ServiceHandlers<(typeof RegistryService)["method"]>,
  "createOperator" | "getOperator" | "verifyOperatorDomain" | "setOperatorKey"
>;

/** Each check makes outbound requests: at most this many per domain in the window. */
const VERIFY_LIMIT = 10;
const VERIFY_WINDOW_MS = 60_000;

/** The operator RPCs: creation (admin), and what an operator does about itself. */
export function operatorHandlers(deps: OperatorDeps): OperatorHandlers {
  const { registry, clock, domainVerifier } = deps;
  const ttlMs = deps.verificationTtlSeconds * 1000;
  const message = (operator: OperatorRecord) =>
    toOperatorMessage(operator, clock.now(), domainVerifier.locations(operator.domain));
  const found = (operator: OperatorRecord | undefined) => {
    if (!operator) throw new GatehouseError(Reason.OPERATOR_NOT_FOUND);
    return operator;
  };

  return {
    async createOperator(request, { caller }) {
      const publicKey = request.publicKey;
      const publicKeyHex =
        publicKey.length > 0 ? screenedPublicKeyHex(publicKey, "public_key") : "";
      const now = clock.now();
      const token = randomId();
      const operator: OperatorRecord = {
        domain: request.domain,
        displayName: request.displayName,
        status: "active",
        createdAt: now,
        // An attestation never expires: it vouches for names no public proof can cover.
        verification: request.attestDomain
          ? { token, method: "admin_attested", verifiedAt: now }
          : { token },
        ...(publicKeyHex && { publicKeyHex }),
      };
      if ((await registry.createOperator(operator)) === "exists") {
        throw new GatehouseError(Reason.OPERATOR_ALREADY_EXISTS);
      }
      const { domain } = operator;
      await deps.audit(operatorEvent(Audited.OPERATOR_CREATED, caller, domain));
      if (request.attestDomain) {
        const comment = "admin_attested";
        await deps.audit(
          operatorEvent(Audited.OPERATOR_DOMAIN_VERIFIED, caller, domain, { comment }),
        );
      }
      if (publicKeyHex) {
        const keyId = ed25519Thumbprint(publicKey);
        await deps.audit(operatorEvent(Audited.OPERATOR_KEY_SET, caller, domain, { keyId }));
      }
      return { operator: message(operator) };
    },

    async getOperator(request, { caller }) {
      return { operator: message(await operatorFor(registry, caller, request.domain, "read")) };
    },

    async verifyOperatorDomain(request, { caller }) {
      const method = proofMethodFromProto(request.method);
      if (!method) {
        throw invalidArgument("method", "must be DNS_TXT or HTTPS_WELL_KNOWN");
      }
      const operator = await operatorFor(registry, caller, request.domain, "write");
      const key = `verify-domain:${operator.domain}`;
      const hit = await deps.rateLimits.hit(key, VERIFY_LIMIT, VERIFY_WINDOW_MS);
      if (!hit.allowed) {
        throw new GatehouseError(Reason.RATE_LIMITED, { retryAfterMs: hit.retryAfterMs });
      }
      // A refused proof throws here, and nothing is written.
      const { token } = domainVerificationOf(operator);
      await domainVerifier.check(operator.domain, method, token);
      const now = clock.now();
      const verification = { token, method, verifiedAt: now, expiresAt: now + ttlMs };
      const patched = found(await registry.patchOperator(operator.domain, { verification }));
      await deps.audit(
        operatorEvent(Audited.OPERATOR_DOMAIN_VERIFIED, caller, operator.domain, {
          comment: method,
        }),
      );
      return { operator: message(patched) };
    },

    async setOperatorKey(request, { caller }) {
      const publicKeyHex = screenedPublicKeyHex(request.publicKey, "public_key");
      const operator = await operatorFor(registry, caller, request.domain, "write");
      const patched = found(await registry.patchOperator(operator.domain, { publicKeyHex }));
      await deps.audit(
        operatorEvent(Audited.OPERATOR_KEY_SET, caller, operator.domain, {
          keyId: ed25519Thumbprint(request.publicKey),
        }),
      );
      return { operator: message(patched) };
    },
  };
}

/**
 * The operator a call names, for the operator itself or an admin. Another operator is refused
 * before any lookup (OPERATOR_MISMATCH), so it cannot probe which domains exist; a revoked
 * operator is changed no more.
 */
async function operatorFor(
  registry: RegistryStore,
  caller: Caller,
  domain: string,
  access: Access,
): Promise<OperatorRecord> {
  const itself = caller.role === "operator" && caller.operatorDomain === domain;
  if (!itself && caller.role !== "admin") throw new GatehouseError(Reason.OPERATOR_MISMATCH);
  const operator = await registry.getOperator(domain);
  if (!operator) throw new GatehouseError(Reason.OPERATOR_NOT_FOUND);
  if (access === "write" && operator.status === "revoked") {
    throw new GatehouseError(Reason.OPERATOR_REVOKED);
  }
  return operator;
}
