import type { AnswerKind } from "../canonicalize.js";
import type { Rng } from "../prng.js";

/** One generated task: the text shown, and the answer computed from the same structure. */
export interface Instance {
  readonly prompt: string;
  readonly kind: AnswerKind;
  /** Already canonical. */
  readonly answer: string;
}

/** A parameterized generator of tasks. `difficulty` is 1 (easiest) to 5. */
export interface Family {
  generate(rng: Rng, difficulty: number): Instance;
}
