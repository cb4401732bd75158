import { integer } from "../../config/parsers.js";
import { setting } from "../../config/setting.js";

/** The hashcash kind's entries in the configuration table (src/config/table.ts). */
export const hashcashEntries = {
  challenges: {
    hashcashDifficultyBits: setting({
      env: "GATEHOUSE_HASHCASH_DIFFICULTY_BITS",
      default: 18,
      parse: integer(8, 32),
      doc: "leading zero bits hashcash requires (8..32)",
    }),
  },
  runtime: {
    hashcashMinMs: setting({
      default: 0,
      parse: integer(0, 3_600_000),
      doc: "least plausible `runtime_ms` of a hashcash answer",
    }),
    hashcashMaxMs: setting({
      default: 600_000,
      parse: integer(0, 3_600_000),
      doc: "most plausible `runtime_ms` of a hashcash answer",
    }),
  },
};
