import { describe, expect, it } from "vitest";
import { startupTimeline } from "../../../src/app/startup.js";

describe("startupTimeline", () => {
  it("names each phase in the order marked, in whole milliseconds from the previous mark", () => {
    const timeline = startupTimeline();
    timeline.mark("tls");
    timeline.mark("store");
    const phases = timeline.phases();
    expect(Object.keys(phases)).toEqual(["bootMs", "tlsMs", "storeMs", "readyMs", "cpuMs"]);
    for (const ms of Object.values(phases)) {
      expect(Number.isInteger(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(0);
    }
  });

  it("ends at the last mark: ready is boot plus every phase (each rounded)", () => {
    const timeline = startupTimeline();
    timeline.mark("listen");
    const { bootMs = 0, listenMs = 0, readyMs = 0 } = timeline.phases();
    expect(Math.abs(readyMs - (bootMs + listenMs))).toBeLessThanOrEqual(1);
  });

  it("counts the process's CPU time so far", () => {
    const { cpuMs = 0 } = startupTimeline().phases();
    const { user, system } = process.cpuUsage();
    expect(cpuMs).toBeGreaterThan(0);
    expect(cpuMs).toBeLessThanOrEqual(Math.round((user + system) / 1000));
  });
});
