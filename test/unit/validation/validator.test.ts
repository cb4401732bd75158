import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { CreateOperatorRequestSchema } from "../../../gen/gatehouse/v1/registry_pb.js";
import { GatehouseError } from "../../../src/errors/index.js";
import { validateMessage } from "../../../src/validation/validator.js";

function fieldAtFault(displayName: string): string | undefined {
  const request = create(CreateOperatorRequestSchema, { domain: "example.com", displayName });
  try {
    validateMessage(CreateOperatorRequestSchema, request);
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
});
