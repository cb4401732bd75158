import { answerStep } from "./answer.js";
import { autonomyStep } from "./autonomy.js";
import { deadlineStep } from "./deadline.js";
import { identityStep } from "./identity.js";
import { platformStep } from "./platform.js";
import { runtimeStep } from "./runtime.js";
import type { SubmitStep } from "./types.js";

export type { SubmitContext, SubmitStep } from "./types.js";

/**
 * The submission checks, in order; the order is a security property. Before them the
 * challenge was found and consumed atomically (whatever happens next, it is spent), so
 * each check costs the caller its one attempt. Expensive work (the answer) runs only after
 * the cheap checks (identity, deadline) passed. The attestations and the runtime report are
 * judged only for a correct answer.
 */
export const SUBMIT_STEPS: readonly SubmitStep[] = [
  identityStep,
  deadlineStep,
  answerStep,
  autonomyStep,
  platformStep,
  runtimeStep,
];
