import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { RequestGrantRequestSchema } from "../../../gen/gatehouse/v1/grants_pb.js";
import { CreateOperatorRequestSchema } from "../../../gen/gatehouse/v1/registry_pb.js";
import { CapabilityAction } from "../../../gen/gatehouse/v1/resources_pb.js";
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
});
