import type { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { catalogEntry, GatehouseError } from "../../src/errors/index.js";

/** A refusal as a client sees it: the reason, and the public message sent with it. */
export interface Refusal {
  readonly reason: Reason;
  readonly message: string;
}

export type Outcome = "allowed" | Refusal;

export const refused = (reason: Reason, message: string): Refusal => ({ reason, message });

/** A verification step's answer: a Reason (with the catalog's public message) or none. */
export async function stepOutcome(
  answer: Reason | undefined | Promise<Reason | undefined>,
): Promise<Outcome> {
  const reason = await answer;
  return reason === undefined ? "allowed" : refused(reason, catalogEntry(reason).message);
}

/** A check that throws its refusal (submit steps, token flows): the error's reason and message. */
export async function thrownOutcome(run: () => unknown): Promise<Outcome> {
  try {
    await run();
    return "allowed";
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error;
    return refused(error.reason, error.message);
  }
}
