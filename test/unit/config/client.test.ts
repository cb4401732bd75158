import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clientDefaults, DEFAULTS } from "../../../src/config/index.js";

describe("clientDefaults", () => {
  it("takes the server address and data directory from the environment", () => {
    expect(
      clientDefaults({ GATEHOUSE_SERVER: "gate.internal:7443", GATEHOUSE_DATA_DIR: "/srv/gh" }),
    ).toEqual({
      server: "gate.internal:7443",
      dataDir: "/srv/gh",
      pkiDir: join("/srv/gh", "pki"),
      keysDir: join("/srv/gh", "keys"),
    });
  });

  it("leaves the server to the built-in default and uses the default data directory", () => {
    const defaults = clientDefaults({ GATEHOUSE_SERVER: "" });
    expect(defaults.server).toBeUndefined();
    expect(defaults.pkiDir).toBe(join(DEFAULTS.dataDir, "pki"));
    expect(defaults.keysDir).toBe(join(DEFAULTS.dataDir, "keys"));
  });
});
