import { describe, expect, it } from "vitest";
import { loadServerConfig } from "../../../src/cli/server-config.js";

describe("gatehouse serve --role", () => {
  it("sets the server's role", () => {
    expect(loadServerConfig("dev", { role: "verifier" }).role).toBe("verifier");
    expect(loadServerConfig("dev", {}).role).toBe("all");
  });

  it("reports an unknown role with every other problem, each named by its flag", () => {
    expect(() => loadServerConfig("dev", { role: "signer", grpcPort: "x" })).toThrow(
      /--grpc-port[\s\S]*--role: must be one of/,
    );
  });
});

describe("gatehouse sidecar --workers", () => {
  it("sets the sidecar's process count, not the server's", () => {
    const config = loadServerConfig("dev", { sidecarWorkers: "4", sidecarPort: "0" });
    expect(config.sidecar).toMatchObject({ workers: 4, port: 0 });
    expect(config.workers).toBe(1);
    expect(loadServerConfig("dev", {}).sidecar.workers).toBe(1);
  });

  it.each([
    ["0", "--workers: must be an integer 1..64, got 0"],
    ["65", "--workers: must be an integer 1..64, got 65"],
    ["two", '--workers: must be a whole number, got "two"'],
    ["-1", '--workers: must be a whole number, got "-1"'],
  ])("refuses --workers %s with a message naming the flag", (value, problem) => {
    expect(() => loadServerConfig("dev", { sidecarWorkers: value })).toThrow(
      `invalid configuration:\n  - ${problem}`,
    );
  });

  it("names the flag for serve --workers too", () => {
    expect(() => loadServerConfig("dev", { workers: "0" })).toThrow(
      "--workers: must be an integer 1..64, got 0",
    );
  });
});
