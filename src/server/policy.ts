import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { ServerRole } from "../config/index.js";
import { GatehouseError } from "../errors/index.js";
import type { Caller, Role } from "../identity/caller.js";

/**
 * Who may call what, keyed by full method name (`package.Service/Method`). A method missing
 * here is refused for everyone (fail closed); test/unit/server/policy.test.ts walks every
 * generated service descriptor to prove the table is complete. Finer checks (an operator
 * may touch only its own agents) live in the services.
 */
export const RPC_POLICY: Readonly<Record<string, readonly Role[]>> = {
  // A claimant (a DID claim the sidecar forwards for a caller without a certificate) may only
  // ask for a DID-proof challenge and redeem it at Token (checked in the gate service).
  "gatehouse.v1.GateService/Challenge": ["agent", "claimant"],
  "gatehouse.v1.GateService/Submit": ["agent"],
  "gatehouse.v1.GateService/Token": ["agent", "claimant"],
  // The proxy role is the HTTP sidecar speaking for itself: forward-auth (Verify) and the
  // public documents (the JWKS, the issuer metadata); for anything else it forwards a caller.
  "gatehouse.v1.VerifyService/Verify": ["verifier", "operator", "admin", "proxy"],
  "gatehouse.v1.VerifyService/GetJwks": ["agent", "verifier", "operator", "admin", "proxy"],
  "gatehouse.v1.VerifyService/GetIssuerMetadata": [
    "agent",
    "verifier",
    "operator",
    "admin",
    "proxy",
  ],
  "gatehouse.v1.RegistryService/CreateOperator": ["admin"],
  "gatehouse.v1.RegistryService/RegisterAgent": ["operator"],
  "gatehouse.v1.RegistryService/GetAgent": ["operator", "admin", "verifier"],
  "gatehouse.v1.RegistryService/ListAgents": ["operator", "admin"],
  "gatehouse.v1.RegistryService/UpdateAgentPolicy": ["operator", "admin"],
  "gatehouse.v1.RegistryService/SuspendAgent": ["operator", "admin"],
  "gatehouse.v1.RegistryService/ReactivateAgent": ["operator", "admin"],
  "gatehouse.v1.RegistryService/Revoke": ["operator", "admin"],
  "gatehouse.v1.RegistryService/RotateSigningKey": ["admin"],
  "gatehouse.v1.RegistryService/ListSigningKeys": ["admin"],
  // A DID document holds public keys only: every role may resolve (agents included), and the
  // sidecar for itself (the Auth4Agent-style `GET /v1/agent/{did}`).
  "gatehouse.v1.RegistryService/ResolveDid": ["agent", "verifier", "operator", "admin", "proxy"],
  "gatehouse.v1.RegistryService/RotateAgentKey": ["operator", "admin"],
  "gatehouse.v1.RegistryService/DeleteAgent": ["operator", "admin"],
  // The operator itself (checked in the service) or an admin.
  "gatehouse.v1.RegistryService/GetOperator": ["operator", "admin"],
  "gatehouse.v1.RegistryService/VerifyOperatorDomain": ["operator", "admin"],
  "gatehouse.v1.RegistryService/SetOperatorKey": ["operator", "admin"],
  // Grants: agents ask for and read their own; operators and admins read and revoke
  // (scoped in the service). Humans decide on the approval page, not over RPC.
  "gatehouse.v1.GrantService/RequestGrant": ["agent"],
  "gatehouse.v1.GrantService/GetGrant": ["agent", "operator", "admin"],
  "gatehouse.v1.GrantService/ListGrants": ["agent", "operator", "admin"],
  "gatehouse.v1.GrantService/RevokeGrant": ["operator", "admin"],
  "gatehouse.v1.GrantService/CreateApproverInvite": ["operator"],
  "gatehouse.v1.GrantService/ListApprovers": ["operator", "admin"],
  "gatehouse.v1.GrantService/RemoveApprover": ["operator", "admin"],
  // Operators see only events about their own domain (enforced in the service).
  "gatehouse.v1.AuditService/GetAuditKeys": ["operator", "admin"],
  "gatehouse.v1.AuditService/ListAuditEvents": ["operator", "admin"],
  "gatehouse.v1.AuditService/VerifyAuditChain": ["admin"],
  "gatehouse.v1.AuditService/PruneAuditLog": ["admin"],
  // Envoy ext_authz: the mesh presents a verifier certificate.
  "envoy.service.auth.v3.Authorization/Check": ["verifier", "admin"],
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

/** Throws unless the table lets the caller's role call `method`. */
export function authorize(method: string, caller: Caller): void {
  if (!caller.role) throw new GatehouseError(Reason.UNAUTHENTICATED);
  const allowed = RPC_POLICY[method];
  if (allowed?.includes(caller.role)) return;
  // A proxy speaking for itself on an RPC it may not call has forwarded no caller: nobody is
  // authenticated for this call (the same answer as before the proxy role existed).
  throw new GatehouseError(
    caller.role === "proxy" ? Reason.UNAUTHENTICATED : Reason.PERMISSION_DENIED,
  );
}
