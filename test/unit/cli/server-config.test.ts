import { describe, expect, it } from "vitest";
import { loadServerConfig } from "../../../src/cli/server-config.js";

describe("gatehouse serve --role", () => {
  it("sets the server's role", () => {
    expect(loadServerConfig("dev", { role: "verifier" }).role).toBe("verifier");
    expect(loadServerConfig("dev", {}).role).toBe("all");
  });

  it("reports an unknown role with every other problem", () => {
    expect(() => loadServerConfig("dev", { role: "signer", grpcPort: "x" })).toThrow(
      /--grpc-port[\s\S]*overrides\.role: must be one of/,
    );
  });
});
