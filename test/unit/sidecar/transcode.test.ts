import { create, type Message, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
import { type VerifyRequest, VerifyService } from "../../../gen/gatehouse/v1/verify_pb.js";
import { GatehouseError } from "../../../src/errors/index.js";
import { compileTemplate } from "../../../src/sidecar/rest/path-template.js";
import type { RestRoute } from "../../../src/sidecar/rest/routes.js";
import { requestMessage, responseJson } from "../../../src/sidecar/rest/transcode.js";

const verify = VerifyService.method.verify;

function route(path: string, body: string, responseBody = ""): RestRoute {
  return {
    method: verify,
    httpMethod: "POST",
    path,
    template: compileTemplate(path),
    body,
    responseBody,
  };
}

const json = (message: Message) => toJson(verify.input, message as VerifyRequest);

describe("REST transcoding (google.api.http)", () => {
  it("takes one field from the body, others from the query and the path", () => {
    const message = requestMessage(
      route("/v1/{audience}/verify", "token"),
      new Map([["audience", "https://a.example"]]),
      new URLSearchParams("required_scopes=a&required_scopes=b&http_method=GET"),
      Buffer.from('"t.t.t"'),
    );
    expect(json(message)).toEqual({
      token: "t.t.t",
      audience: "https://a.example",
      requiredScopes: ["a", "b"],
      httpMethod: "GET",
    });
  });

  it("lets path variables win over the body, and reads nested query fields", () => {
    const message = requestMessage(
      route("/v1/{audience}", "*"),
      new Map([["audience", "from-path"]]),
      new URLSearchParams(),
      Buffer.from('{"audience":"from-body","amount":{"currency":"EUR"}}'),
    );
    expect(json(message)).toMatchObject({ audience: "from-path", amount: { currency: "EUR" } });
    const nested = requestMessage(
      route("/v1/x", ""),
      new Map(),
      new URLSearchParams("amount.currency=EUR&amount.minor_units=12"),
      Buffer.alloc(0),
    );
    expect(json(nested)).toMatchObject({ amount: { currency: "EUR", minorUnits: "12" } });
  });

  it("reads booleans from the query by the field's type", () => {
    const list = RegistryService.method.listAgents;
    const boolField = list.input.fields.find(
      (field) => field.fieldKind === "scalar" && field.scalar === 8,
    );
    if (boolField === undefined) return; // ListAgents has no bool field to read
    const listRoute: RestRoute = { ...route("/v1/agents", ""), method: list };
    expect(() =>
      requestMessage(
        listRoute,
        new Map(),
        new URLSearchParams(`${boolField.name}=yes`),
        Buffer.alloc(0),
      ),
    ).toThrow(GatehouseError);
  });

  it("refuses unknown fields, bad JSON and message fields in the query, as INVALID_ARGUMENT", () => {
    const cases: [RestRoute, string, string][] = [
      [route("/v1/x", "*"), "", '{"nope":1}'],
      [route("/v1/x", "*"), "", "{"],
      [route("/v1/x", "*"), "", '"text"'],
      [route("/v1/x", ""), "nope=1", ""],
      [route("/v1/x", ""), "amount=1", ""],
      [route("/v1/x", ""), "token=a&token=b", ""],
    ];
    for (const [r, query, body] of cases) {
      try {
        requestMessage(r, new Map(), new URLSearchParams(query), Buffer.from(body));
        expect.unreachable(`${query} ${body}`);
      } catch (error) {
        expect((error as GatehouseError).reason).toBe(Reason.INVALID_ARGUMENT);
      }
    }
  });

  it("sends only the response_body field when the rule names one, defaults included", () => {
    const message = create(verify.output, { allowed: false });
    expect(responseJson(route("/v1/x", "*", "allowed"), message)).toBe(false);
    expect(responseJson(route("/v1/x", "*"), message)).toMatchObject({
      allowed: false,
      scopes: [],
    });
  });
});
