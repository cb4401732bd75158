import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS, withServerNodeFlags } from "../../../src/app/node-flags.js";

describe("withServerNodeFlags", () => {
  it("adds the server's V8 flags to a worker's execArgv, keeping what was there", () => {
    expect(withServerNodeFlags(["--import", "tsx"])).toEqual([
      "--import",
      "tsx",
      "--max-semi-space-size=8",
    ]);
  });

  it("leaves a flag the operator set alone", () => {
    expect(withServerNodeFlags(["--max-semi-space-size=2"])).toEqual(["--max-semi-space-size=2"]);
  });

  it("are the flags `npm start` runs the server with", () => {
    const packageJson = JSON.parse(readFileSync("package.json", "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(packageJson.scripts.start).toBe(
      `node ${SERVER_NODE_FLAGS.join(" ")} dist/bundle/gatehouse.js serve`,
    );
  });

  it("are the flags the container image runs the server with", () => {
    const dockerfile = readFileSync("infra/docker/Dockerfile", "utf8");
    expect(dockerfile).toContain(
      `ENTRYPOINT ${JSON.stringify(["node", ...SERVER_NODE_FLAGS, "/app/bin/gatehouse.js"]).replaceAll(",", ", ")}`,
    );
  });
});
