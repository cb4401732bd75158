import { describe, expect, it } from "vitest";
import { forwardAuthRoutes } from "../../../src/sidecar/route-table.js";

const MCP_ROUTE = {
  host: "mcp.example.com",
  path_prefix: "/mcp",
  resource: "https://mcp.example.com/mcp",
  scopes: ["mcp:use"],
  mcp: true,
};

describe("forward-auth route table: MCP servers", () => {
  it("reads per-method and per-name scopes", () => {
    const parsed = forwardAuthRoutes([
      {
        ...MCP_ROUTE,
        mcp_scopes: [
          { method: "tools/call", name: "delete_repo", scopes: ["repo:admin"] },
          { method: "resources/read", scopes: ["files:read"] },
        ],
      },
    ]);
    expect(parsed).toEqual({
      ok: true,
      value: [
        expect.objectContaining({
          mcp: true,
          audience: "https://mcp.example.com/mcp",
          mcpScopes: [
            { method: "tools/call", name: "delete_repo", scopes: ["repo:admin"] },
            { method: "resources/read", scopes: ["files:read"] },
          ],
        }),
      ],
    });
  });

  it("requires the audience to be the resource, and mcp = true for mcp_scopes", () => {
    const parsed = forwardAuthRoutes([
      { ...MCP_ROUTE, audience: "https://api.example.com" },
      { ...MCP_ROUTE, mcp: false, mcp_scopes: [{ method: "tools/call", scopes: ["x"] }] },
      { ...MCP_ROUTE, mcp: "yes" },
    ]);
    expect(parsed.ok).toBe(false);
    const problem = parsed.ok ? "" : parsed.problem;
    expect(problem).toContain("routes[0].audience: an MCP server's audience is its resource");
    expect(problem).toContain("routes[1].mcp_scopes: needs mcp = true");
    expect(problem).toContain("routes[2].mcp: must be true or false");
  });

  it("reports every bad rule at once", () => {
    const parsed = forwardAuthRoutes([
      {
        ...MCP_ROUTE,
        mcp_scopes: [
          { method: "tools call", scopes: ["a"] },
          { method: "tools/call", name: "", scopes: ["a"] },
          { method: "tools/call", scopes: [] },
          { method: "tools/call", scopes: ["a"], tool: "x" },
          "tools/call",
        ],
      },
    ]);
    const problem = parsed.ok ? "" : parsed.problem;
    expect(problem).toContain("mcp_scopes[0].method");
    expect(problem).toContain("mcp_scopes[1].name");
    expect(problem).toContain("mcp_scopes[2].scopes");
    expect(problem).toContain('mcp_scopes[3]: unknown key "tool"');
    expect(problem).toContain("mcp_scopes[4]: must be a table");
  });
});
