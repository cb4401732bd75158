import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  getOption,
  hasOption,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GateService } from "../../gen/gatehouse/v1/gate_pb.js";
import { GrantService } from "../../gen/gatehouse/v1/grants_pb.js";
import { RegistryService } from "../../gen/gatehouse/v1/registry_pb.js";
import { CapabilityAction } from "../../gen/gatehouse/v1/resources_pb.js";
import { oneof_required, rules } from "../../gen/gatehouse/v1/validate_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { createConnectClient, createMtlsTransport } from "../../src/client/connect-client.js";
import type { ClientTls } from "../../src/client/credentials.js";
import { fromGrpcError } from "../../src/client/errors.js";
import { createGrpcChannel, createGrpcClient } from "../../src/client/grpc-client.js";
import { RPC_POLICY } from "../../src/server/policy.js";
import { rejectionOf } from "../support/errors.js";
import { AUDIENCE, type Enrolled, enrollAgent } from "../support/flows.js";
import { startTestGatehouse, type TestGatehouse } from "../support/gatehouse.js";
import { VALID_REQUESTS } from "../support/valid-requests.js";

const INVALID_ARGUMENT = 3;
const SERVICES = [GateService, VerifyService, RegistryService, GrantService, AuditService];
interface Mutation {
  readonly name: string;
  readonly field: string;
  readonly request: Record<string, unknown>;
}

/** Text a `printable` field refuses: each would make a human read something else. */
const UNPRINTABLE: readonly [string, string][] = [
  ["bidi override", "refund \u202Eroe 01\u202C"],
  ["bidi isolate", "a\u2067b\u2069"],
  ["zero-width space", "pay\u200Bpal"],
  ["byte-order mark", "\uFEFFok"],
  ["line feed", "ok\nApproved by security"],
];

/** Every way to break each field, derived from the contract's own rules. */
function mutations(schema: DescMessage, valid: Record<string, unknown>, prefix = ""): Mutation[] {
  const out: Mutation[] = [];
  for (const oneof of schema.oneofs) {
    if (hasOption(oneof, oneof_required) && getOption(oneof, oneof_required)) {
      out.push({
        name: "unset oneof",
        field: prefix + oneof.name,
        request: { ...valid, [oneof.localName]: { case: undefined } },
      });
    }
  }
  for (const field of schema.fields) {
    const path = prefix + field.name;
    const set = (value: unknown) => setField(valid, field, value);
    if (field.fieldKind === "message" && field.message.typeName.startsWith("gatehouse.")) {
      const nested = valid[field.localName] as Record<string, unknown> | undefined;
      if (nested) {
        for (const m of mutations(field.message, nested, `${path}.`)) {
          out.push({ ...m, request: set(m.request) });
        }
      }
    }
    if (!hasOption(field, rules)) continue;
    const r = getOption(field, rules);
    const item = (value: unknown) => (field.fieldKind === "list" ? [value] : value);
    // Item rules name the offending item: `scopes[0]`.
    const itemPath = field.fieldKind === "list" ? `${path}[0]` : path;
    const isBytes =
      field.fieldKind !== "enum" && field.fieldKind !== "message" && field.scalar === 12;
    const sized = (n: number) => (isBytes ? new Uint8Array(n) : "a".repeat(n));
    if (r.required && field.fieldKind !== "enum") {
      const missing =
        field.fieldKind === "list" ? [] : field.fieldKind === "message" ? undefined : sized(0);
      out.push({ name: "missing", field: path, request: set(missing) });
    }
    if (r.maxLen > 0)
      out.push({ name: "oversized", field: itemPath, request: set(item(sized(r.maxLen + 1))) });
    if (r.minLen > 1)
      out.push({ name: "too short", field: itemPath, request: set(item(sized(r.minLen - 1))) });
    if (r.pattern)
      out.push({ name: "malformed", field: itemPath, request: set(item("bad value\u0000")) });
    if (r.printable) {
      for (const [name, text] of UNPRINTABLE) {
        out.push({ name, field: itemPath, request: set(item(text)) });
      }
    }
    if (r.maxItems > 0) {
      // A list of messages gets copies of its first valid item (or empty messages).
      const first =
        field.fieldKind === "list" ? (valid[field.localName] as unknown[])?.[0] : undefined;
      const filler = (i: number) => {
        if (field.fieldKind !== "list" || field.listKind === "scalar") return `s${i}`;
        return field.listKind === "message" ? (first ?? {}) : i + 1;
      };
      const many = Array.from({ length: r.maxItems + 1 }, (_, i) => filler(i));
      out.push({ name: "too many items", field: path, request: set(many) });
    }
    if (r.unique) {
      const twice = field.fieldKind === "list" && field.listKind === "enum" ? [1, 1] : ["a", "a"];
      out.push({ name: "repeated items", field: path, request: set(twice) });
    }
    if (r.definedOnly) out.push({ name: "unknown enum", field: path, request: set(999) });
    if (r.required && field.fieldKind === "enum")
      out.push({ name: "unset enum", field: path, request: set(0) });
    if (r.maxValue > 0n)
      out.push({ name: "too large", field: path, request: set(Number(r.maxValue) + 1) });
  }
  return out;
}

function setField(request: Record<string, unknown>, field: DescField, value: unknown) {
  if (!field.oneof) return { ...request, [field.localName]: value };
  return { ...request, [field.oneof.localName]: { case: field.localName, value } };
}

describe("bad input on every RPC → INVALID_ARGUMENT naming the field", () => {
  let gh: TestGatehouse;
  let agent: Enrolled;
  const tlsByRole: Record<string, ClientTls> = {};

  beforeAll(async () => {
    gh = await startTestGatehouse();
    agent = await enrollAgent(gh);
    tlsByRole.agent = agent.agentTls;
    tlsByRole.operator = agent.operatorTls;
    tlsByRole.admin = agent.adminTls;
    tlsByRole.verifier = agent.verifierTls;
  });
  afterAll(async () => {
    await gh?.dispose();
  });

  const methods: DescMethod[] = SERVICES.flatMap((s) => s.methods);
  const tlsFor = (method: DescMethod) => {
    const role = RPC_POLICY[`${method.parent.typeName}/${method.name}`]?.roles[0] ?? "admin";
    const tls = tlsByRole[role];
    if (!tls) throw new Error(`no certificate for ${role}`);
    return tls;
  };

  it("has a valid request for every method", () => {
    for (const method of methods) expect(VALID_REQUESTS[method.name], method.name).toBeDefined();
  });

  for (const method of SERVICES.flatMap((s) => s.methods)) {
    it(`${method.parent.name}/${method.name}`, async () => {
      const service = SERVICES.find((s) => s.typeName === method.parent.typeName);
      if (!service) throw new Error("unknown service");
      const client = createGrpcClient(service as typeof GateService, {
        address: gh.grpcAddress,
        tls: tlsFor(method),
      });
      try {
        const valid = VALID_REQUESTS[method.name] ?? {};
        for (const mutation of mutations(method.input, valid)) {
          const call = (client as unknown as Record<string, (r: unknown) => Promise<unknown>>)[
            method.localName
          ];
          const error = await rejectionOf(
            call?.(create(method.input, mutation.request as never)) ?? Promise.resolve(),
          );
          expect(error.code, `${mutation.field} ${mutation.name}`).toBe(INVALID_ARGUMENT);
          expect(error.reason).toBe(Reason.INVALID_ARGUMENT);
          expect(error.field, mutation.name).toBe(mutation.field);
        }
      } finally {
        client.close();
      }
    });
  }

  it("malformed protobuf bytes on every method → INVALID_ARGUMENT, never INTERNAL", async () => {
    for (const method of methods) {
      const channel = createGrpcChannel(gh.grpcAddress, tlsFor(method));
      try {
        const error = await new Promise<grpc.ServiceError>((resolve, reject) =>
          channel.makeUnaryRequest(
            `/${method.parent.typeName}/${method.name}`,
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
            new grpc.Metadata(),
            (err) => (err ? resolve(err) : reject(new Error("accepted garbage"))),
          ),
        );
        expect(error.code, method.name).toBe(INVALID_ARGUMENT);
        expect(fromGrpcError(error).reason).toBe(Reason.INVALID_ARGUMENT);
      } finally {
        channel.close();
      }
    }
  });

  it("a request over the message size limit is refused with RESOURCE_EXHAUSTED", async () => {
    const client = createGrpcClient(VerifyService, {
      address: gh.grpcAddress,
      tls: agent.verifierTls,
    });
    try {
      const error = await rejectionOf(
        client.verify({ token: "x".repeat(100_000), audience: AUDIENCE }),
      );
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
    }
  });

  it("refuses a grant reason with a bidi override, and keeps multilingual reasons", async () => {
    const grants = createGrpcClient(GrantService, { address: gh.grpcAddress, tls: agent.agentTls });
    const request = (reason: string) =>
      grants.requestGrant({
        audience: AUDIENCE,
        capabilities: [{ action: CapabilityAction.READ, resource: "orders" }],
        reason,
      });
    try {
      // Shown as "refund 10 EUR" reversed: the approver would read another amount.
      const error = await rejectionOf(request("refund \u202E01 RUE\u202C for order 7"));
      expect(error.code).toBe(INVALID_ARGUMENT);
      expect(error.reason).toBe(Reason.INVALID_ARGUMENT);
      expect(error.field).toBe("reason");
      const reason = "Réconcilier les factures — 請求書の照合 🧾 (Zoë, Łódź)";
      const { grant } = await request(reason);
      expect(grant?.reason).toBe(reason);
    } finally {
      grants.close();
    }
  });

  it("names the field over Connect JSON too", async () => {
    const registry = createConnectClient(
      RegistryService,
      createMtlsTransport(gh.connectUrl, agent.adminTls, "connect-json"),
    );
    const error = await rejectionOf(registry.createOperator({ domain: "Not A Domain" }));
    expect(error.code).toBe(INVALID_ARGUMENT);
    expect(error.reason).toBe(Reason.INVALID_ARGUMENT);
    expect(error.field).toBe("domain");
  });
});
