import { integer } from "../../config/parsers.js";
import { setting } from "../../config/setting.js";

/** The compute worker pool's entry in the configuration table. */
export const computeEntries = {
  challenges: {
    computeWorkers: setting({
      env: "GATEHOUSE_COMPUTE_WORKERS",
      default: 1,
      parse: integer(1, 16),
      doc: "worker threads checking iterated-hash answers off the event loop (1..16)",
    }),
  },
};
