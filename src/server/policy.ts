import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { ServerRole } from "../config/index.js";
import { GatehouseError } from "../errors/index.js";
import type { Caller, Role } from "../identity/caller.js";

/**
 * The rate limit a method's calls count against, checked by the dispatcher after
 * authorization and before validation (dispatch.ts CALL_STEPS):
 * - `challenge`, `submit`: per caller identity and per source address, shared through the
 *   store by every replica ([limits]; src/services/gate/abuse/rate-limits.ts);
 * - `none`: no per-caller limit. Verify and Check are the hot path (their callers are
 *   verifiers and meshes, bounded by the transport limits and, per agent, by the token's
 *   envelope); the management methods are called by admins and operators holding
 *   certificates from the CA, each change audited.
 */
export type RateLimitName = "challenge" | "submit" | "none";

/** One row of the per-RPC table. */
export interface MethodPolicy {
  /** The roles that may call the method; none = nobody. */
  readonly roles: readonly Role[];
  readonly rateLimit: RateLimitName;
}

/**
 * Who may call what, and at what rate, keyed by full method name (`package.Service/Method`).
 * A method missing here is refused for everyone (fail closed); test/unit/server/policy.test.ts
 * walks every generated service descriptor to prove the table is complete, both columns
 * included. Finer checks (an operator may touch only its own agents) live in the services.
 */
export const RPC_POLICY: Readonly<Record<string, MethodPolicy>> = {
  // A claimant (a DID claim the sidecar forwards for a caller without a certificate) may only
  // ask for a DID-proof challenge and redeem it at Token (checked in the gate service; the
  // redemption counts against Submit's limits there).
  "gatehouse.v1.GateService/Challenge": { roles: ["agent", "claimant"], rateLimit: "challenge" },
  "gatehouse.v1.GateService/Submit": { roles: ["agent"], rateLimit: "submit" },
  "gatehouse.v1.GateService/Token": { roles: ["agent", "claimant"], rateLimit: "none" },
  // The proxy role is the HTTP sidecar speaking for itself: forward-auth (Verify) and the
  // public documents (the JWKS, the issuer metadata); for anything else it forwards a caller.
  "gatehouse.v1.VerifyService/Verify": {
    roles: ["verifier", "operator", "admin", "proxy"],
    rateLimit: "none",
  },
  "gatehouse.v1.VerifyService/GetJwks": {
    roles: ["agent", "verifier", "operator", "admin", "proxy"],
    rateLimit: "none",
  },
  "gatehouse.v1.VerifyService/GetIssuerMetadata": {
    roles: ["agent", "verifier", "operator", "admin", "proxy"],
    rateLimit: "none",
  },
  "gatehouse.v1.RegistryService/CreateOperator": { roles: ["admin"], rateLimit: "none" },
  "gatehouse.v1.RegistryService/RegisterAgent": { roles: ["operator"], rateLimit: "none" },
  "gatehouse.v1.RegistryService/GetAgent": {
    roles: ["operator", "admin", "verifier"],
    rateLimit: "none",
  },
  "gatehouse.v1.RegistryService/ListAgents": { roles: ["operator", "admin"], rateLimit: "none" },
  "gatehouse.v1.RegistryService/UpdateAgentPolicy": {
    roles: ["operator", "admin"],
    rateLimit: "none",
  },
  "gatehouse.v1.RegistryService/SuspendAgent": { roles: ["operator", "admin"], rateLimit: "none" },
  "gatehouse.v1.RegistryService/ReactivateAgent": {
    roles: ["operator", "admin"],
    rateLimit: "none",
  },
  "gatehouse.v1.RegistryService/Revoke": { roles: ["operator", "admin"], rateLimit: "none" },
  "gatehouse.v1.RegistryService/RotateSigningKey": { roles: ["admin"], rateLimit: "none" },
  "gatehouse.v1.RegistryService/ListSigningKeys": { roles: ["admin"], rateLimit: "none" },
  // A DID document holds public keys only: every role may resolve (agents included), and the
  // sidecar for itself (the Auth4Agent-style `GET /v1/agent/{did}`).
  "gatehouse.v1.RegistryService/ResolveDid": {
    roles: ["agent", "verifier", "operator", "admin", "proxy"],
    rateLimit: "none",
  },
  "gatehouse.v1.RegistryService/RotateAgentKey": {
    roles: ["operator", "admin"],
    rateLimit: "none",
  },
  "gatehouse.v1.RegistryService/DeleteAgent": { roles: ["operator", "admin"], rateLimit: "none" },
  // The operator itself (checked in the service) or an admin.
  "gatehouse.v1.RegistryService/GetOperator": { roles: ["operator", "admin"], rateLimit: "none" },
  "gatehouse.v1.RegistryService/VerifyOperatorDomain": {
    roles: ["operator", "admin"],
    rateLimit: "none",
  },
  "gatehouse.v1.RegistryService/SetOperatorKey": {
    roles: ["operator", "admin"],
    rateLimit: "none",
  },
  // Grants: agents ask for and read their own; operators and admins read and revoke
  // (scoped in the service). Humans decide on the approval page, not over RPC.
  "gatehouse.v1.GrantService/RequestGrant": { roles: ["agent"], rateLimit: "none" },
  "gatehouse.v1.GrantService/GetGrant": {
    roles: ["agent", "operator", "admin"],
    rateLimit: "none",
  },
  "gatehouse.v1.GrantService/ListGrants": {
    roles: ["agent", "operator", "admin"],
    rateLimit: "none",
  },
  "gatehouse.v1.GrantService/RevokeGrant": { roles: ["operator", "admin"], rateLimit: "none" },
  "gatehouse.v1.GrantService/CreateApproverInvite": { roles: ["operator"], rateLimit: "none" },
  "gatehouse.v1.GrantService/ListApprovers": { roles: ["operator", "admin"], rateLimit: "none" },
  "gatehouse.v1.GrantService/RemoveApprover": { roles: ["operator", "admin"], rateLimit: "none" },
  // Operators see only events about their own domain (enforced in the service).
  "gatehouse.v1.AuditService/GetAuditKeys": { roles: ["operator", "admin"], rateLimit: "none" },
  "gatehouse.v1.AuditService/ListAuditEvents": { roles: ["operator", "admin"], rateLimit: "none" },
  "gatehouse.v1.AuditService/VerifyAuditChain": { roles: ["admin"], rateLimit: "none" },
  "gatehouse.v1.AuditService/PruneAuditLog": { roles: ["admin"], rateLimit: "none" },
  // Envoy ext_authz: the mesh presents a verifier certificate.
  "envoy.service.auth.v3.Authorization/Check": { roles: ["verifier", "admin"], rateLimit: "none" },
};

/**
 * The server-role column of the table: the methods a verifier serves. Verifiers scale with
 * request traffic and hold no issuing power: they verify and publish the public keys, never
 * issue a challenge, pass or token and never write the registry. An issuer serves every
 * other method of RPC_POLICY (it leaves decisions to the verifiers); "all" serves the whole
 * table. A method outside RPC_POLICY is served by no role (fail closed).
 */
const VERIFIER_RPCS: ReadonlySet<string> = new Set([
  "gatehouse.v1.VerifyService/Verify",
  "envoy.service.auth.v3.Authorization/Check",
  "gatehouse.v1.VerifyService/GetJwks",
  "gatehouse.v1.VerifyService/GetIssuerMetadata",
]);

/** Both roles publish the keys tokens are checked with. */
const SHARED_RPCS: ReadonlySet<string> = new Set([
  "gatehouse.v1.VerifyService/GetJwks",
  "gatehouse.v1.VerifyService/GetIssuerMetadata",
]);

/** Whether a server in `role` serves `method`; others answer REASON_METHOD_NOT_SERVED. */
export function servedBy(role: ServerRole, method: string): boolean {
  if (!Object.hasOwn(RPC_POLICY, method)) return false;
  switch (role) {
    case "all":
      return true;
    case "verifier":
      return VERIFIER_RPCS.has(method);
    case "issuer":
      return SHARED_RPCS.has(method) || !VERIFIER_RPCS.has(method);
  }
}

/** The roles that may call `method`; none when the table does not list it (fail closed). */
export function rolesOf(method: string): readonly Role[] {
  return Object.hasOwn(RPC_POLICY, method) ? (RPC_POLICY[method]?.roles ?? NOBODY) : NOBODY;
}

/** Whether an operator may call `method` (a signed operator request may name only those). */
export function operatorMayCall(method: string): boolean {
  return RPC_POLICY[method]?.roles.includes("operator") ?? false;
}

/** The rate limit of `method`; undefined when the table does not list it (fail closed). */
export function rateLimitOf(method: string): RateLimitName | undefined {
  return Object.hasOwn(RPC_POLICY, method) ? RPC_POLICY[method]?.rateLimit : undefined;
}

/** Throws unless the table lets the caller's role call `method`. */
export function authorize(method: string, caller: Caller): void {
  authorizeRoles(RPC_POLICY[method]?.roles ?? NOBODY, caller);
}

const NOBODY: readonly Role[] = [];

/** Throws unless `roles` (a method's row of the table) hold the caller's role. */
export function authorizeRoles(roles: readonly Role[], caller: Caller): void {
  if (!caller.role) throw new GatehouseError(Reason.UNAUTHENTICATED);
  if (roles.includes(caller.role)) return;
  // A proxy speaking for itself on an RPC it may not call has forwarded no caller: nobody is
  // authenticated for this call (the same answer as before the proxy role existed).
  throw new GatehouseError(
    caller.role === "proxy" ? Reason.UNAUTHENTICATED : Reason.PERMISSION_DENIED,
  );
}
