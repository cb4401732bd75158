import { describe, expect, it } from "vitest";
import { SUBMIT_STEPS } from "../../../../../src/services/gate/submit-steps/index.js";

describe("the submission order (a security property: change it only on purpose)", () => {
  it("runs the steps in this order", () => {
    expect(SUBMIT_STEPS.map((step) => step.name)).toEqual([
      // Cheap checks first; the challenge was already consumed, so each costs the attempt.
      "identityStep",
      "deadlineStep",
      // The expensive one, by the stored kind.
      "answerStep",
      // Judged only for a correct answer.
      "autonomyStep",
      "platformStep",
      "runtimeStep",
    ]);
  });
});
