import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { CheckRequestSchema } from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AUTHZ_DECODERS } from "../../../src/services/authz/index.js";
import { readCheckRequest } from "../../../src/services/authz/request.js";

const decodeCheck = AUTHZ_DECODERS.get(CheckRequestSchema.typeName);
if (!decodeCheck) throw new Error("no CheckRequest decoder");

const TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJkaWQ6YWdlbnQ6eCJ9.c2lnbmF0dXJl";

/** A CheckRequest as Envoy sends it, with headers and fields Gatehouse does not read. */
function envoyRequest(headers: Record<string, string>, scheme = "https"): Uint8Array {
  const request = create(CheckRequestSchema, {
    attributes: {
      source: { principal: "spiffe://cluster.local/ns/a/sa/b" },
      request: {
        http: {
          method: "POST",
          host: "API.example.com:8443",
          path: "/orders?limit=10#top",
          scheme,
          headers: { ":authority": "api.example.com", "user-agent": "sdk", ...headers },
        },
      },
      contextExtensions: { gatehouse_required_scopes: "orders:read orders:write", other: "x" },
    },
  });
  const http = request.attributes?.request?.http;
  if (!http) throw new Error("no http request");
  // Fields the generated subset leaves out (create() takes no unknown fields): id, size.
  http.$unknown = [
    { no: 1, wireType: WireType.LengthDelimited, data: lengthPrefixed("req-1") },
    { no: 9, wireType: WireType.Varint, data: new Uint8Array([0x2a]) },
  ];
  return toBinary(CheckRequestSchema, request);
}

function lengthPrefixed(value: string): Uint8Array {
  return new BinaryWriter().string(value).finish();
}

/** What Check reads, decoded both ways: the pruned decoder must read the same. */
function bothWays(bytes: Uint8Array) {
  return {
    pruned: readCheckRequest(decodeCheck?.(bytes) as never),
    full: readCheckRequest(fromBinary(CheckRequestSchema, bytes)),
  };
}

describe("the CheckRequest decoder", () => {
  it("reads what fromBinary reads, for each header Check uses", () => {
    const cases = [
      { authorization: `Bearer ${TOKEN}` },
      { authorization: `DPoP ${TOKEN}`, dpop: "proof.jws.value", "gatehouse-amount": "EUR 1250" },
      { "gatehouse-amount": "bad" },
      {},
    ];
    for (const headers of cases) {
      const { pruned, full } = bothWays(envoyRequest(headers));
      expect(pruned).toEqual(full);
    }
    // The URL a DPoP proof is checked against (RFC 9449 §4.3): the request's scheme, the
    // host lower-cased, no query or fragment. Bearer requests need none.
    const { pruned, full } = bothWays(envoyRequest({ authorization: `DPoP ${TOKEN}` }, "http"));
    expect(pruned.url).toBe("http://api.example.com:8443/orders");
    expect(pruned).toEqual(full);
    expect(bothWays(envoyRequest({ authorization: `Bearer ${TOKEN}` })).pruned.url).toBe("");
  });

  it("reads each header and route value as itself, also after another with the same ending", () => {
    // Values read are remembered by their last characters and used only for the very value.
    const read = (headers: Record<string, string>) => bothWays(envoyRequest(headers)).pruned;
    expect(read({ authorization: `Bearer ${TOKEN}` }).credentials.scheme).toBe("bearer");
    expect(read({ authorization: `Basic ${TOKEN}` }).credentials.scheme).toBe("none");
    expect(read({ authorization: `DPoP ${TOKEN}` }).credentials.scheme).toBe("dpop");
    expect(read({ authorization: `Bearer x${TOKEN}` }).credentials).toEqual({
      scheme: "bearer",
      token: `x${TOKEN}`,
    });
    expect(read({ authorization: `Bearer ${TOKEN}` }).credentials.scheme).toBe("bearer");
  });

  it("merges a message given twice and keeps the last value of a map key", () => {
    const first = envoyRequest({ authorization: "Bearer first" });
    const second = toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, {
        attributes: {
          request: { http: { headers: { authorization: "Bearer second" } } },
          contextExtensions: { gatehouse_audience: "https://aud.example" },
        },
      }),
    );
    const { pruned, full } = bothWays(Buffer.concat([first, second]));
    expect(pruned).toEqual(full);
    expect(pruned.credentials).toEqual({ scheme: "bearer", token: "second" });
    expect(pruned.audience).toBe("https://aud.example");
  });

  it("reads a map entry whose value comes before its key", () => {
    const entry = new BinaryWriter().tag(2, WireType.LengthDelimited).string(`Bearer ${TOKEN}`);
    entry.tag(1, WireType.LengthDelimited).string("authorization");
    const http = new BinaryWriter().tag(3, WireType.LengthDelimited).bytes(entry.finish());
    const request = new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(http.finish());
    const attributes = new BinaryWriter().tag(4, WireType.LengthDelimited).bytes(request.finish());
    const bytes = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(attributes.finish());
    const { pruned, full } = bothWays(bytes.finish());
    expect(pruned).toEqual(full);
    expect(pruned.credentials).toEqual({ scheme: "bearer", token: TOKEN });
  });

  it("refuses truncated input, overruns and a read field of the wrong wire type", () => {
    const bytes = envoyRequest({ authorization: `Bearer ${TOKEN}` });
    expect(() => decodeCheck(bytes.subarray(0, bytes.length - 3))).toThrow();
    // attributes (1) as a varint.
    expect(() => decodeCheck(new Uint8Array([0x08, 0x01]))).toThrow();
    // attributes holding a source (1) whose length runs past attributes' own.
    expect(() => decodeCheck(new Uint8Array([0x0a, 0x02, 0x0a, 0x05, 0x22, 0x00]))).toThrow();
    // invalid UTF-8 in the method, a proto3 string.
    const http = new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(new Uint8Array([0xff]));
    const request = new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(http.finish());
    const attributes = new BinaryWriter().tag(4, WireType.LengthDelimited).bytes(request.finish());
    const wire = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(attributes.finish());
    expect(() => decodeCheck(wire.finish())).toThrow();
  });
});
