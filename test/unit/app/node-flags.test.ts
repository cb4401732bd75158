import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS, withServerNodeFlags } from "../../../src/app/node-flags.js";

describe("withServerNodeFlags", () => {
  it("adds the server's V8 flags to a worker's execArgv, keeping what was there", () => {
    expect(withServerNodeFlags(["--import", "tsx"])).toEqual([
      "--import",
      "tsx",
      "--max-semi-space-size=2",
    ]);
  });

  it("leaves a flag the operator set alone", () => {
    expect(withServerNodeFlags(["--max-semi-space-size=16"])).toEqual(["--max-semi-space-size=16"]);
  });

  it("are the flags `npm start` runs the server with", () => {
    const packageJson = JSON.parse(readFileSync("package.json", "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(packageJson.scripts.start).toBe(
      `node ${SERVER_NODE_FLAGS.join(" ")} dist/src/cli/main.js serve`,
    );
  });
});
