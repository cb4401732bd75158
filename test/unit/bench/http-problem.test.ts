import { describe, expect, it } from "vitest";
import { httpProblem } from "../../../bench/scenarios/http.js";

describe("the HTTP runs' answer check (node:http2 generator; bench/loadgen/http.go says the same)", () => {
  const expectation = {
    status: 200,
    headers: { "x-gatehouse-agent": "did:x:a" },
    bodyContains: '"allowed":true',
  };

  it("counts an answer with the status, the headers and the body", () => {
    const headers = { "x-gatehouse-agent": "did:x:a" };
    expect(httpProblem(expectation, 200, headers, '{"allowed":true}')).toBeUndefined();
  });

  it("names what is wrong otherwise", () => {
    const ok = { "x-gatehouse-agent": "did:x:a" };
    expect(httpProblem(expectation, 401, ok, "")).toBe("status 401");
    expect(httpProblem(expectation, 200, { "x-gatehouse-agent": "did:x:b" }, "")).toBe(
      'header x-gatehouse-agent: got "did:x:b"',
    );
    expect(httpProblem(expectation, 200, ok, '{"allowed":false}')).toBe(
      'body lacks "\\"allowed\\":true"',
    );
    expect(httpProblem({ status: 200 }, 0, {}, "")).toBe("status 0"); // no answer head at all
  });
});
