import { integer } from "../../config/parsers.js";
import { setting } from "../../config/setting.js";

/** The signature kind's entries in the configuration table (src/config/table.ts). */
export const signatureEntries = {
  runtime: {
    signatureMinMs: setting({
      default: 0,
      parse: integer(0, 3_600_000),
      doc: "least plausible `runtime_ms` of a signature answer; `0` = not reported, accepted only where the minimum is `0`",
    }),
    signatureMaxMs: setting({
      default: 30_000,
      parse: integer(0, 3_600_000),
      doc: "most plausible `runtime_ms` of a signature answer",
    }),
  },
};
