import { create, type DescMessage, getOption, hasOption, ScalarType } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AuditService } from "../../../gen/gatehouse/v1/audit_pb.js";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { GateService } from "../../../gen/gatehouse/v1/gate_pb.js";
import { GrantService, RequestGrantRequestSchema } from "../../../gen/gatehouse/v1/grants_pb.js";
import {
  CreateOperatorRequestSchema,
  RegistryService,
} from "../../../gen/gatehouse/v1/registry_pb.js";
import { CapabilityAction } from "../../../gen/gatehouse/v1/resources_pb.js";
import { rules } from "../../../gen/gatehouse/v1/validate_pb.js";
import { VerifyService } from "../../../gen/gatehouse/v1/verify_pb.js";
import { GatehouseError } from "../../../src/errors/index.js";
import { validateMessage } from "../../../src/validation/validator.js";

function fieldAtFault(displayName: string): string | undefined {
  return faultOf(() =>
    validateMessage(
      CreateOperatorRequestSchema,
      create(CreateOperatorRequestSchema, { domain: "example.com", displayName }),
    ),
  );
}

/** The field a validation names, or undefined when it passes. */
function faultOf(validate: () => void): string | undefined {
  try {
    validate();
    return undefined;
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error;
    expect(error.reason).toBe(Reason.INVALID_ARGUMENT);
    return error.field;
  }
}

describe("validateMessage", () => {
  it("counts characters as code points (max_len 128)", () => {
    const astral = "\u{1F916}"; // two UTF-16 units, one character
    expect(fieldAtFault(astral.repeat(128))).toBeUndefined();
    expect(fieldAtFault(astral.repeat(129))).toBe("display_name");
    expect(fieldAtFault("a".repeat(128))).toBeUndefined();
    expect(fieldAtFault("a".repeat(129))).toBe("display_name");
    // A lone surrogate counts as one character.
    expect(fieldAtFault(`${"a".repeat(127)}\uD800`)).toBeUndefined();
  });

  it("applies the rules of each item of a repeated message field, naming the item", () => {
    const capabilities = (resource: string, action = CapabilityAction.READ) =>
      faultOf(() =>
        validateMessage(
          RequestGrantRequestSchema,
          create(RequestGrantRequestSchema, {
            audience: "https://api.example.com",
            reason: "x",
            capabilities: [{ action: CapabilityAction.READ }, { action, resource }],
          }),
        ),
      );
    expect(capabilities("orders")).toBeUndefined();
    expect(capabilities("orders; drop")).toBe("capabilities[1].resource");
    expect(capabilities("x".repeat(97))).toBe("capabilities[1].resource");
    expect(capabilities("orders", 99 as CapabilityAction)).toBe("capabilities[1].action");
  });

  it.each([
    ["a right-to-left override", "pay \u202Eroe\u202C 10"],
    ["a left-to-right embedding", "\u202Aabc"],
    ["a first-strong isolate", "x\u2068y\u2069"],
    ["a zero-width space", "pay\u200Bpal"],
    ["a right-to-left mark", "abc\u200F"],
    ["a byte-order mark", "\uFEFFabc"],
    ["a line feed", "line one\nline two"],
    ["a tab", "a\tb"],
    ["a NUL", "a\u0000"],
    ["a DEL", "a\u007F"],
    ["a C1 control", "a\u0085"],
    ["a line separator", "a\u2028b"],
    ["a paragraph separator", "a\u2029b"],
    ["a language tag", "a\u{E0001}"],
  ])("refuses %s in a printable field", (_, displayName) => {
    expect(fieldAtFault(displayName)).toBe("display_name");
  });

  it.each([
    "Zoë Ångström-Łukasiewicz",
    "支払い担当エージェント",
    "وكيل الدفع", // right-to-left script, without any override
    "Payments 🤖🚀 €10 — “quoted”",
    "नमस्ते दुनिया",
  ])("accepts printable multilingual text: %s", (displayName) => {
    expect(fieldAtFault(displayName)).toBeUndefined();
  });
});

/**
 * Machine-read request strings: tokens, proofs, cursors, answers and URLs compared by code.
 * Every other request string is shown to a human or matched by the contract, so it must
 * declare a `pattern` or the `printable` rule: a new free-text field fails here until it does.
 */
const MACHINE_READ = [
  "gatehouse.v1.JwtBearerGrant.assertion",
  "gatehouse.v1.ListAgentsRequest.page_token",
  "gatehouse.v1.ListGrantsRequest.page_token",
  "gatehouse.v1.ListSigningKeysRequest.page_token",
  "gatehouse.v1.ReasoningAnswer.answer",
  "gatehouse.v1.SubmitRequest.autonomy_attestation",
  "gatehouse.v1.SubmitRequest.platform_attestation",
  "gatehouse.v1.TokenExchangeGrant.subject_token",
  "gatehouse.v1.TokenRequest.dpop_proof",
  "gatehouse.v1.VerifyRequest.dpop_proof",
  "gatehouse.v1.VerifyRequest.http_url",
  "gatehouse.v1.VerifyRequest.token",
];

describe("the contract's request strings", () => {
  it("are each matched by a pattern, printable, or machine-read", () => {
    const unruled = new Set<string>();
    const seen = new Set<string>();
    const walk = (schema: DescMessage): void => {
      if (seen.has(schema.typeName) || schema.typeName.startsWith("google.")) return;
      seen.add(schema.typeName);
      for (const field of schema.fields) {
        const isString =
          (field.fieldKind === "scalar" || field.fieldKind === "list") &&
          field.scalar === ScalarType.STRING;
        const rule = hasOption(field, rules) ? getOption(field, rules) : undefined;
        if (isString && !rule?.pattern && !rule?.printable) {
          unruled.add(`${schema.typeName}.${field.name}`);
        }
        if (field.fieldKind === "message") walk(field.message);
        if (field.fieldKind === "list" && field.listKind === "message") walk(field.message);
      }
    };
    const services = [GateService, VerifyService, RegistryService, GrantService, AuditService];
    for (const method of services.flatMap((service) => service.methods)) walk(method.input);
    expect([...unruled].sort()).toEqual(MACHINE_READ);
  });
});
