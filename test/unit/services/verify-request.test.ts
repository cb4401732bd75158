import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { VerifyRequestSchema } from "../../../gen/gatehouse/v1/verify_pb.js";
import { VERIFY_DECODERS } from "../../../src/services/verify/index.js";

const decodeVerify = VERIFY_DECODERS.get(VerifyRequestSchema.typeName);
if (!decodeVerify) throw new Error("no VerifyRequest decoder");

const TOKEN = `eyJhbGciOiJFZERTQSJ9.${"eyJzdWIiOiJkaWQ6YWdlbnQ6eCJ9".repeat(20)}.c2lnbmF0dXJl`;

/** Decoded by the service's decoder and by fromBinary: the same message, or both throw. */
function bothWays(bytes: Uint8Array) {
  const decode = (read: (bytes: Uint8Array) => unknown) => {
    try {
      return { message: read(bytes) };
    } catch {
      return { threw: true };
    }
  };
  return {
    own: decode((b) => decodeVerify?.(b)),
    full: decode((b) => fromBinary(VerifyRequestSchema, b)),
  };
}

describe("Verify's request decoder", () => {
  it("decodes what callers send as fromBinary does", () => {
    const requests = [
      { token: TOKEN, audience: "https://api.example.com", requiredScopes: ["orders:read"] },
      { token: TOKEN, audience: "https://api.example.com", requiredScopes: ["a", "b:c", "d/e"] },
      {
        token: TOKEN,
        audience: "https://api.example.com",
        dpopProof: "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln",
        httpMethod: "POST",
        httpUrl: "https://api.example.com/orders?x=1",
      },
      { token: "", audience: "" },
      { token: "tökén ✓", audience: "ça" },
    ];
    for (const request of requests) {
      const bytes = toBinary(VerifyRequestSchema, create(VerifyRequestSchema, request));
      const { own, full } = bothWays(bytes);
      expect(own.message).toEqual(full.message);
      expect(own.message).toEqual(create(VerifyRequestSchema, request));
    }
    expect(bothWays(new Uint8Array(0)).own.message).toEqual(create(VerifyRequestSchema));
  });

  it("keeps the last value of a scalar given twice and every value of the scopes", () => {
    const bytes = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .string("first")
      .tag(3, WireType.LengthDelimited)
      .string("orders:read")
      .tag(1, WireType.LengthDelimited)
      .string("second")
      .tag(3, WireType.LengthDelimited)
      .string("orders:write")
      .finish();
    const { own, full } = bothWays(bytes);
    expect(own.message).toEqual(full.message);
    expect(own.message).toMatchObject({
      token: "second",
      requiredScopes: ["orders:read", "orders:write"],
    });
  });

  it("hands an amount, an unknown field or another wire type to fromBinary, whole", () => {
    const withAmount = toBinary(
      VerifyRequestSchema,
      create(VerifyRequestSchema, {
        token: TOKEN,
        audience: "https://api.example.com",
        amount: { currency: "EUR", minorUnits: 1250n },
      }),
    );
    const base = new BinaryWriter().tag(1, WireType.LengthDelimited).string(TOKEN);
    const unknown = base.tag(99, WireType.Varint).uint32(7).finish();
    const varintToken = new BinaryWriter()
      .tag(2, WireType.LengthDelimited)
      .string("aud")
      .tag(1, WireType.Varint)
      .uint32(0)
      .finish();
    for (const bytes of [withAmount, unknown, varintToken]) {
      const { own, full } = bothWays(bytes);
      expect(own).toEqual(full);
    }
    // The unknown field is kept, so a re-encoding (a signed request's body) is the same.
    const { own } = bothWays(unknown);
    expect(toBinary(VerifyRequestSchema, own.message as never)).toEqual(unknown);
  });

  it("throws on malformed input, as fromBinary does", () => {
    const truncated = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .string(TOKEN)
      .finish()
      .subarray(0, 40);
    const invalidUtf8 = new BinaryWriter()
      .tag(2, WireType.LengthDelimited)
      .bytes(new Uint8Array([0x61, 0xff, 0x62]))
      .finish();
    const fieldZero = new Uint8Array([0x02, 0x00]);
    for (const bytes of [truncated, invalidUtf8, fieldZero]) {
      const { own, full } = bothWays(bytes);
      expect(own).toEqual({ threw: true });
      expect(full).toEqual({ threw: true });
    }
  });
});
