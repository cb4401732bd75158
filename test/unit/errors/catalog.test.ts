import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { catalogEntry, catalogReasons } from "../../../src/errors/index.js";

const reasons = Object.values(Reason).filter((v): v is Reason => typeof v === "number");

describe("error catalog", () => {
  it("maps every reason the contract declares (none falls back to INTERNAL)", () => {
    const mapped = new Set(catalogReasons());
    const missing = reasons.filter((r) => r !== Reason.UNSPECIFIED && !mapped.has(r));
    expect(missing.map((r) => Reason[r])).toEqual([]);
  });

  it("keeps client errors off the server-fault codes", () => {
    for (const reason of reasons) {
      if (reason === Reason.UNSPECIFIED || reason === Reason.INTERNAL) continue;
      const { code, http } = catalogEntry(reason);
      expect(code, Reason[reason]).not.toBe(Code.Internal);
      expect(http, Reason[reason]).toBeLessThan(reason === Reason.UNAVAILABLE ? 504 : 500);
    }
  });
});
