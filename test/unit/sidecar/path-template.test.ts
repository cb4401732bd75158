import { describe, expect, it } from "vitest";
import { compileTemplate, matchTemplate } from "../../../src/sidecar/rest/path-template.js";

const match = (template: string, path: string) => matchTemplate(compileTemplate(template), path);

describe("google.api.http path templates", () => {
  it("matches literals and a verb", () => {
    expect(match("/v1/tokens:verify", "/v1/tokens:verify")).toEqual(new Map());
    expect(match("/v1/tokens:verify", "/v1/tokens")).toBeUndefined();
    expect(match("/v1/tokens", "/v1/tokens:verify")).toBeUndefined();
  });

  it("captures a single-segment variable before a verb, percent-decoded", () => {
    expect(match("/v1/challenges/{challenge_id}:submit", "/v1/challenges/a%20b:submit")).toEqual(
      new Map([["challenge_id", "a b"]]),
    );
    expect(match("/v1/agents/{did}", "/v1/agents/did:agent:example.com:a1")).toEqual(
      new Map([["did", "did:agent:example.com:a1"]]),
    );
    expect(match("/v1/agents/{did}", "/v1/agents/a/b")).toBeUndefined();
  });

  it("captures {field=segments/*} and ** forms across segments", () => {
    expect(match("/v1/{name=operators/*/agents/*}", "/v1/operators/x/agents/y")).toEqual(
      new Map([["name", "operators/x/agents/y"]]),
    );
    expect(match("/v1/{name=operators/*/agents/*}", "/v1/operators/x/y")).toBeUndefined();
    expect(match("/v1/{path=**}:get", "/v1/a/b/c:get")).toEqual(new Map([["path", "a/b/c"]]));
    expect(match("/v1/{a.b}/x", "/v1/q/x")).toEqual(new Map([["a.b", "q"]]));
  });

  it("refuses templates outside the grammar", () => {
    expect(() => compileTemplate("v1/x")).toThrow();
    expect(() => compileTemplate("/v1/{bad-name}")).toThrow();
    expect(() => compileTemplate("/v1/a b")).toThrow();
  });
});
