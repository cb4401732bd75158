import { describe, expect, it } from "vitest";
import { sidecarListening } from "../../../src/sidecar/index.js";

describe("sidecarListening (what a sidecar worker announces to its primary)", () => {
  it("keeps only the port and URL of a running sidecar, and reads them back from JSON", () => {
    const sidecar = { port: 7447, url: "https://127.0.0.1:7447", stop: async () => {} };
    const listening = sidecarListening(sidecar);
    expect(listening).toEqual({ port: 7447, url: "https://127.0.0.1:7447" });
    expect(sidecarListening(JSON.parse(JSON.stringify(listening)))).toEqual(listening);
  });
});
