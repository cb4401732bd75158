import { InvalidArgumentError } from "commander";

/** Commander argument parser for whole-number options (seconds, page sizes, versions). */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number.");
  return Number(value);
}
