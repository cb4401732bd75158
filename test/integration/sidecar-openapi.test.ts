import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REST_SERVICES } from "../../src/sidecar/index.js";
import { generateOpenApi, OPENAPI_FILE } from "../../src/sidecar/openapi/write.js";
import { restRoutes } from "../../src/sidecar/rest/routes.js";
import { http1, startTestSidecar, type TestSidecar } from "../support/sidecar.js";
import { pythonToolPath } from "../support/tools.js";

const run = promisify(execFile);

describe("OpenAPI document", () => {
  let committed: string;
  let t: TestSidecar;

  beforeAll(async () => {
    committed = await readFile(OPENAPI_FILE, "utf8");
    t = await startTestSidecar();
  });
  afterAll(() => t?.stop());

  it("docs/openapi.json is what the proto generates (run `npm run openapi` after a proto change)", async () => {
    expect(await generateOpenApi()).toBe(committed);
  });

  it("is valid OpenAPI 3.1 for openapi-spec-validator", async () => {
    const { stdout } = await run(
      pythonToolPath("openapi-spec-validator"),
      [fileURLToPath(OPENAPI_FILE)],
      { timeout: 60_000 },
    );
    expect(stdout).toContain("OK");
  });

  it("documents every REST binding, with the proto's comments", () => {
    const doc = JSON.parse(committed) as {
      paths: Record<string, Record<string, { operationId: string; description?: string }>>;
    };
    const routes = restRoutes(REST_SERVICES);
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const path = route.path.replace(/\{([^=}]+)(=[^}]*)?\}/g, "{$1}");
      const operation = doc.paths[path]?.[route.httpMethod.toLowerCase()];
      expect(operation?.operationId, `${route.httpMethod} ${route.path}`).toBe(
        `${route.method.parent.name}_${route.method.name}`,
      );
    }
    expect(doc.paths["/v1/tokens"]?.post?.description).toContain("redeems a pass");
  });

  it("is served at /openapi.json without a client certificate, with an ETag", async () => {
    const discovery = await http1(t.gh.caPem, `${t.url}/.well-known/gatehouse`);
    const { openapi_url } = discovery.json() as { openapi_url: string };
    expect(openapi_url).toBe(`${t.url}/openapi.json`);
    const answer = await http1(t.gh.caPem, openapi_url);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(answer.json()).toEqual(JSON.parse(committed));
    const etag = String(answer.headers.etag);
    const again = await http1(t.gh.caPem, `${t.url}/openapi.json`, {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    const post = await http1(t.gh.caPem, `${t.url}/openapi.json`, { method: "POST", body: "{}" });
    // The path exists: another method is 405 with Allow (RFC 9110 §15.5.6), not 404.
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });
});
