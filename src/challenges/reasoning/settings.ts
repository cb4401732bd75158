import { integer } from "../../config/parsers.js";
import { setting } from "../../config/setting.js";
import {
  REASONING_DEADLINE_RANGE,
  REASONING_DIFFICULTY_RANGE,
  reasoningFamilyTable,
} from "./config.js";

/** The reasoning kind's entries in the configuration table (src/config/table.ts). */
export const reasoningEntries = {
  challenges: {
    reasoningDifficulty: setting({
      env: "GATEHOUSE_REASONING_DIFFICULTY",
      default: 2,
      parse: integer(...REASONING_DIFFICULTY_RANGE),
      doc: "reasoning task difficulty (1..5), unless `reasoning_families` says otherwise",
    }),
    reasoningDeadlineSeconds: setting({
      env: "GATEHOUSE_REASONING_DEADLINE",
      default: 20,
      parse: integer(...REASONING_DEADLINE_RANGE),
      doc: "reasoning deadline (1..600), unless `reasoning_families` says otherwise",
    }),
    reasoningFamilies: setting({
      default: {},
      parse: reasoningFamilyTable,
      shownDefault: "—",
      doc: "file only: per-family overrides, `[challenges.reasoning_families.<family>] difficulty`, `deadline_seconds`; see `docs/reasoning-threat-model.md`",
    }),
  },
  runtime: {
    reasoningMinMs: setting({
      default: 50,
      parse: integer(0, 3_600_000),
      doc: "least plausible `runtime_ms` of a reasoning answer: under 50 ms suggests a precomputed answer, so reasoning answers must report a runtime",
    }),
    reasoningMaxMs: setting({
      default: 60_000,
      parse: integer(0, 3_600_000),
      doc: "most plausible `runtime_ms` of a reasoning answer",
    }),
  },
};
