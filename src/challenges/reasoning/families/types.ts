import type { AnswerKind } from "../canonicalize.js";
import type { Rng } from "../prng.js";

/** One generated task: the text shown, and the answer computed from the same structure. */
export interface Instance {
  readonly prompt: string;
  readonly kind: AnswerKind;
  /** Already canonical. */
  readonly answer: string;
  /**
   * A lower bound, in bits, on the min-entropy of the answer to someone who reads the prompt
   * but does not solve it: no blind guess is right with probability above 2^-guessBits.
   * Each family states why its bound holds; test/unit/challenges/reasoning/guessing.test.ts
   * measures it.
   */
  readonly guessBits: number;
}

/** A parameterized generator of tasks. `difficulty` is 1 (easiest) to 5. */
export interface Family {
  generate(rng: Rng, difficulty: number): Instance;
}
