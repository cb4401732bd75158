import { integer } from "../../config/parsers.js";
import { setting } from "../../config/setting.js";

/** The iterated-hash kind's entries in the configuration table (src/config/table.ts). */
export const iteratedHashEntries = {
  challenges: {
    iteratedHashIterations: setting({
      env: "GATEHOUSE_ITERATED_HASH_ITERATIONS",
      default: 100_000,
      parse: integer(1_000, 5_000_000),
      doc: "N of the iterated-hash kind (1000..5000000)",
    }),
  },
  runtime: {
    iteratedHashMinMs: setting({
      default: 0,
      parse: integer(0, 3_600_000),
      doc: "least plausible `runtime_ms` of an iterated-hash answer",
    }),
    iteratedHashMaxMs: setting({
      default: 60_000,
      parse: integer(0, 3_600_000),
      doc: "most plausible `runtime_ms` of an iterated-hash answer",
    }),
  },
};
