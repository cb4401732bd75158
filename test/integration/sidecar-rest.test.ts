import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REST_SERVICES } from "../../src/sidecar/index.js";
import { restRoutes } from "../../src/sidecar/rest/routes.js";
import { type Enrolled, enrollAgent } from "../support/flows.js";
import { http1, startTestSidecar, type TestSidecar } from "../support/sidecar.js";

/** A concrete path for a template: each variable becomes `x` (or `a/b` across segments). */
function concretePath(template: string): string {
  return template
    .replace(/\{[^}=]+=([^}]+)\}/g, (_, segments: string) =>
      segments.replaceAll("**", "a/b").replaceAll("*", "x"),
    )
    .replace(/\{[^}]+\}/g, "x");
}

describe("REST from the descriptors", () => {
  let t: TestSidecar;
  let agent: Enrolled;

  beforeAll(async () => {
    t = await startTestSidecar();
    agent = await enrollAgent(t.gh);
  });
  afterAll(() => t?.stop());

  const routes = restRoutes(REST_SERVICES);

  it("has a route for every RPC with a google.api.http rule", () => {
    const methods = REST_SERVICES.flatMap((service) => service.methods);
    expect(new Set(routes.map((route) => route.method))).toEqual(new Set(methods));
  });

  it.each(["agent", "operator", "verifier", "admin"] as const)(
    "answers every method for a %s with 200 or a typed JSON refusal, never a 500",
    async (role) => {
      const tls = {
        agent: agent.agentTls,
        operator: agent.operatorTls,
        verifier: agent.verifierTls,
        admin: agent.adminTls,
      }[role];
      for (const route of routes) {
        const { path } = route;
        const url = `${t.url}${concretePath(route.path)}`;
        const answer = await http1(t.gh.caPem, url, {
          method: route.httpMethod,
          tls,
          ...(route.body === "" ? {} : { body: "{}" }),
        });
        const name = `${route.method.parent.name}.${route.method.name} (${path})`;
        expect(answer.status, `${name}: ${answer.text}`).toBeLessThan(500);
        expect(answer.headers["content-type"], name).toBe("application/json");
        if (answer.status !== 200) {
          const body = answer.json() as Record<string, unknown>;
          expect(body.reason, name).toMatch(/^REASON_[A-Z_]+$/);
          expect(body.reason, name).not.toBe("REASON_INTERNAL");
        }
      }
    },
  );
});
