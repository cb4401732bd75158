import type {
  ChallengeKind,
  ChallengeResponse,
  SubmitRequest,
} from "../../gen/gatehouse/v1/gate_pb.js";
import type { RegistryStore } from "../store/ports.js";

/** A challenge as stored (by the hash of its id), whatever its kind. */
export interface ChallengeRecord {
  readonly kind: ChallengeKind;
  readonly did: string;
  /** SHA-256 fingerprint of the client certificate it was issued to. */
  readonly caller: string;
  /** Sorted, unique. */
  readonly scopes: readonly string[];
  readonly audience: string;
  /** Unix ms. */
  readonly issuedAt: number;
  /** Unix ms; the deadline. */
  readonly expiresAt: number;
  /** Kind-specific server state (e.g. a reasoning answer); never sent to the client. */
  readonly state: Readonly<Record<string, string>>;
}

/** Everything a kind may bind into what it issues. */
export interface IssueContext {
  readonly challengeId: string;
  readonly issuer: string;
  readonly record: Omit<ChallengeRecord, "state">;
}

export type ChallengeBody = ChallengeResponse["body"];
type Answer = SubmitRequest["answer"];
export type AnswerCase = Exclude<Answer["case"], undefined>;

export interface VerifyContext {
  readonly challengeId: string;
  readonly issuer: string;
  readonly record: ChallengeRecord;
  readonly registry: RegistryStore;
}

/**
 * A challenge kind: a plugin in its own folder. `issue` builds the challenge and the state
 * to keep; `verify` checks an answer against the *stored* record. The submit service
 * chooses the plugin by the stored kind, never by what the client claims.
 */
export interface ChallengeKindPlugin<C extends AnswerCase = AnswerCase> {
  readonly kind: ChallengeKind;
  /** The `SubmitRequest.answer` case this kind accepts. */
  readonly answerCase: C;
  issue(context: IssueContext): Promise<{ state: Record<string, string>; body: ChallengeBody }>;
  verify(context: VerifyContext, answer: Extract<Answer, { case: C }>["value"]): Promise<boolean>;
}
