import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { TokenRequestSchema } from "../../../gen/gatehouse/v1/gate_pb.js";
import { gateObservers } from "../../../src/observability/gate-metrics.js";
import type { GatehouseMetrics } from "../../../src/observability/metrics.js";

describe("login metrics labels", () => {
  it("label Token by the grant's JSON name: pass_token keeps the label `pass`", () => {
    const counted: string[][] = [];
    const child = (labels: string[]) => ({
      inc: () => counted.push(labels),
      observe: () => counted.push(["duration", ...labels]),
    });
    const metrics = {
      logins: { labels: (...labels: string[]) => child(labels) },
      loginDuration: { labels: (...labels: string[]) => child(labels) },
    } as unknown as GatehouseMetrics;
    const observe = gateObservers["gatehouse.v1.GateService/Token"]?.(metrics);
    const request = create(TokenRequestSchema, {
      grant: { case: "passToken", value: "A".repeat(43) },
    });
    observe?.(request, Reason.UNSPECIFIED, 0.01);
    observe?.(create(TokenRequestSchema, {}), Reason.INVALID_ARGUMENT, 0.01);
    expect(counted).toEqual([
      ["pass", "ok"],
      ["duration", "pass"],
      ["none", "failed"],
      ["duration", "none"],
    ]);
  });
});
