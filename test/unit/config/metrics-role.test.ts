import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadConfig } from "../../../src/config/index.js";

function writeToml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-config-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "gatehouse.toml");
  writeFileSync(file, text);
  return file;
}

describe("the [metrics] section and the role", () => {
  it("reads them from the file and the environment", () => {
    const file = writeToml(
      ['role = "verifier"', "[metrics]", 'host = "0.0.0.0"', "port = 9464"].join("\n"),
    );
    const fromFile = loadConfig({ mode: "dev", file, env: {} });
    expect(fromFile.metrics).toEqual({ enabled: true, host: "0.0.0.0", port: 9464 });
    expect(fromFile.role).toBe("verifier");
    const env = { GATEHOUSE_METRICS_ENABLED: "false", GATEHOUSE_ROLE: "issuer" };
    const fromEnv = loadConfig({ mode: "dev", env });
    expect(fromEnv.metrics.enabled).toBe(false);
    expect(fromEnv.role).toBe("issuer");
  });

  it("reports an unknown role and a metrics port shared with an mTLS port, together", () => {
    const env = { GATEHOUSE_ROLE: "signer", GATEHOUSE_METRICS_PORT: "7443" };
    expect(() => loadConfig({ mode: "dev", env })).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringContaining("GATEHOUSE_ROLE"),
          "metrics.port / GATEHOUSE_METRICS_PORT: must differ from the gRPC and Connect ports, got 7443",
        ],
      }),
    );
  });
});
