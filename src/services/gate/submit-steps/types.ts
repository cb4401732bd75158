import type { SubmitRequest } from "../../../../gen/gatehouse/v1/gate_pb.js";
import type { ChallengeRecord } from "../../../challenges/types.js";
import type { AgentReader } from "../../agents.js";
import type { CallContext } from "../../types.js";
import type { GateDeps } from "../deps.js";

/** What the submission checks see: the consumed challenge and the request. */
export interface SubmitContext {
  readonly deps: GateDeps;
  readonly request: SubmitRequest;
  readonly call: CallContext;
  /** The consumed challenge record (consumption happens before any step runs). */
  readonly record: ChallengeRecord;
  /** Server time when the submission arrived, Unix ms, read once. */
  readonly now: number;
  /** Reads the registered agent (the caller's own was asked for with the consume). */
  readonly readAgent: AgentReader;
}

/** One submission check: throws a GatehouseError with its reason, or returns. */
export type SubmitStep = (context: SubmitContext) => void | Promise<void>;
