import { describe, expect, it } from "vitest";
import { file_envoy_service_auth_v3_external_auth } from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { file_gatehouse_v1_audit } from "../../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { file_gatehouse_v1_gate } from "../../../gen/gatehouse/v1/gate_pb.js";
import { file_gatehouse_v1_grants } from "../../../gen/gatehouse/v1/grants_pb.js";
import { file_gatehouse_v1_registry } from "../../../gen/gatehouse/v1/registry_pb.js";
import { file_gatehouse_v1_verify } from "../../../gen/gatehouse/v1/verify_pb.js";
import { GatehouseError } from "../../../src/errors/index.js";
import { ANONYMOUS, type Caller } from "../../../src/identity/caller.js";
import { authorize, RPC_POLICY, rateLimitOf, servedBy } from "../../../src/server/policy.js";

const generatedMethods = [
  file_gatehouse_v1_gate,
  file_gatehouse_v1_verify,
  file_gatehouse_v1_registry,
  file_gatehouse_v1_audit,
  file_gatehouse_v1_grants,
  file_envoy_service_auth_v3_external_auth,
]
  .flatMap((file) => file.services)
  .flatMap((service) => service.methods.map((m) => `${service.typeName}/${m.name}`));

function reasonOf(fn: () => void): Reason | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof GatehouseError ? error.reason : Reason.UNSPECIFIED;
  }
}

describe("per-RPC policy table", () => {
  it("covers every generated method, and nothing else", () => {
    expect(generatedMethods.length).toBeGreaterThan(10);
    for (const method of generatedMethods) expect(RPC_POLICY[method], method).toBeDefined();
    expect(Object.keys(RPC_POLICY).sort()).toEqual([...generatedMethods].sort());
  });

  it("names a rate limit for every generated method (the rate-limit column)", () => {
    for (const method of generatedMethods) {
      expect(["challenge", "submit", "none"], method).toContain(rateLimitOf(method));
    }
    expect(rateLimitOf("gatehouse.v1.GateService/Challenge")).toBe("challenge");
    expect(rateLimitOf("gatehouse.v1.GateService/Submit")).toBe("submit");
    // Not in the table: no limit is named, and the dispatcher serves it to nobody.
    expect(rateLimitOf("gatehouse.v1.GateService/Unknown")).toBeUndefined();
    expect(servedBy("all", "gatehouse.v1.GateService/Unknown")).toBe(false);
  });

  it("fails closed for a method missing from the table", () => {
    const admin: Caller = { fingerprint: "ab", uris: [], role: "admin" };
    expect(reasonOf(() => authorize("gatehouse.v1.GateService/Unknown", admin))).toBe(
      Reason.PERMISSION_DENIED,
    );
  });

  it("refuses a caller without a role on every method", () => {
    for (const method of generatedMethods) {
      expect(reasonOf(() => authorize(method, ANONYMOUS))).toBe(Reason.UNAUTHENTICATED);
    }
  });

  it("keeps the agent role off every registry RPC but ResolveDid", () => {
    const agent: Caller = { fingerprint: "ab", uris: [], role: "agent", did: "did:agent:x:y" };
    const resolve = "gatehouse.v1.RegistryService/ResolveDid";
    expect(reasonOf(() => authorize(resolve, agent))).toBeUndefined();
    const registry = generatedMethods.filter((m) => m.includes("RegistryService"));
    for (const method of registry.filter((m) => m !== resolve)) {
      expect(
        reasonOf(() => authorize(method, agent)),
        method,
      ).toBe(Reason.PERMISSION_DENIED);
    }
  });

  it("lets only operators and admins rotate keys of and delete agents", () => {
    for (const name of ["RotateAgentKey", "DeleteAgent"]) {
      const method = `gatehouse.v1.RegistryService/${name}`;
      for (const role of ["agent", "verifier"] as const) {
        const caller: Caller = { fingerprint: "ab", uris: [], role };
        expect(
          reasonOf(() => authorize(method, caller)),
          `${name} ${role}`,
        ).toBe(Reason.PERMISSION_DENIED);
      }
      for (const role of ["operator", "admin"] as const) {
        const caller: Caller = { fingerprint: "ab", uris: [], role };
        expect(
          reasonOf(() => authorize(method, caller)),
          `${name} ${role}`,
        ).toBeUndefined();
      }
    }
  });

  it("lets admins and operators list audit events, and only admins verify the chain", () => {
    const list = "gatehouse.v1.AuditService/ListAuditEvents";
    const verify = "gatehouse.v1.AuditService/VerifyAuditChain";
    for (const role of ["agent", "verifier", "operator", "admin"] as const) {
      const caller: Caller = { fingerprint: "ab", uris: [], role };
      const listAllowed = role === "operator" || role === "admin";
      expect(
        reasonOf(() => authorize(list, caller)),
        role,
      ).toBe(listAllowed ? undefined : Reason.PERMISSION_DENIED);
      expect(
        reasonOf(() => authorize(verify, caller)),
        role,
      ).toBe(role === "admin" ? undefined : Reason.PERMISSION_DENIED);
    }
  });

  it("lets only the mesh (verifier) and admins call Envoy's Check", () => {
    const check = "envoy.service.auth.v3.Authorization/Check";
    expect(generatedMethods).toContain(check);
    for (const role of ["agent", "operator"] as const) {
      const caller: Caller = { fingerprint: "ab", uris: [], role };
      expect(
        reasonOf(() => authorize(check, caller)),
        role,
      ).toBe(Reason.PERMISSION_DENIED);
    }
    for (const role of ["verifier", "admin"] as const) {
      const caller: Caller = { fingerprint: "ab", uris: [], role };
      expect(
        reasonOf(() => authorize(check, caller)),
        role,
      ).toBeUndefined();
    }
  });
});

describe("the server-role column of the table", () => {
  const verifierRpcs = [
    "gatehouse.v1.VerifyService/Verify",
    "envoy.service.auth.v3.Authorization/Check",
    "gatehouse.v1.VerifyService/GetJwks",
    "gatehouse.v1.VerifyService/GetIssuerMetadata",
  ];

  it("serves every generated method on role all", () => {
    for (const method of generatedMethods) expect(servedBy("all", method), method).toBe(true);
  });

  it("serves only Verify, Check and the public keys on a verifier", () => {
    const served = generatedMethods.filter((method) => servedBy("verifier", method));
    expect(served.sort()).toEqual([...verifierRpcs].sort());
  });

  it("serves everything but Verify and Check on an issuer", () => {
    const refused = generatedMethods.filter((method) => !servedBy("issuer", method));
    expect(refused.sort()).toEqual(verifierRpcs.slice(0, 2).sort());
  });

  it("fails closed for a method missing from the table, on every role", () => {
    for (const role of ["all", "issuer", "verifier"] as const) {
      expect(servedBy(role, "gatehouse.v1.VerifyService/Unknown")).toBe(false);
      expect(servedBy(role, "toString")).toBe(false);
    }
  });
});
