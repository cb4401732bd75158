import { request as httpsRequest } from "node:https";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { GrantService } from "../../gen/gatehouse/v1/grants_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";

const SERVICES = [GateService, VerifyService, RegistryService, AuditService, GrantService];
const readOnly = SERVICES.flatMap((s) => s.methods).filter(
  (m) => m.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS,
);

/** A Connect GET (Connect protocol, "unary-get"): the message in the query string. */
function connectGet(url: string, path: string, tls: ClientTls) {
  const query = new URLSearchParams({ connect: "v1", encoding: "json", message: "{}" });
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(`${url}/${path}?${query}`, { method: "GET", ...tls }, (res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Connect GET on side-effect-free RPCs", () => {
  let gh: TestGatehouse;
  let admin: ClientTls;

  beforeAll(async () => {
    gh = await startTestGatehouse();
    admin = await gh.clientTls({ role: "admin", name: "connect-get" });
  });
  afterAll(() => gh?.dispose());

  it("marks exactly the read-only RPCs NO_SIDE_EFFECTS", () => {
    expect(readOnly.map((m) => `${m.parent.name}.${m.name}`).sort()).toEqual([
      "AuditService.GetAuditKeys",
      "AuditService.ListAuditEvents",
      "AuditService.VerifyAuditChain",
      "GrantService.GetGrant",
      "GrantService.ListApprovers",
      "GrantService.ListGrants",
      "RegistryService.GetAgent",
      "RegistryService.GetOperator",
      "RegistryService.ListAgents",
      "RegistryService.ListSigningKeys",
      "RegistryService.ResolveDid",
      "VerifyService.GetIssuerMetadata",
      "VerifyService.GetJwks",
    ]);
  });

  it.each(readOnly.map((m) => [`${m.parent.typeName}/${m.name}`]))(
    "GET %s is served",
    async (path) => {
      const { status, body } = await connectGet(gh.connectUrl, path, admin);
      // An empty message may be bad input for some (400 with a typed reason), never 405.
      expect([200, 400, 404]).toContain(status);
      if (status !== 200) expect(body).toContain("REASON_");
    },
  );

  it("GET /GetJwks answers the key set", async () => {
    const { status, body } = await connectGet(
      gh.connectUrl,
      "gatehouse.v1.VerifyService/GetJwks",
      admin,
    );
    expect(status).toBe(200);
    expect(JSON.parse(body).keys.length).toBeGreaterThan(0);
  });

  it("refuses GET for an RPC with side effects (405)", async () => {
    for (const path of [
      "gatehouse.v1.VerifyService/Verify",
      "gatehouse.v1.GateService/Challenge",
    ]) {
      expect((await connectGet(gh.connectUrl, path, admin)).status).toBe(405);
    }
  });
});
