import type {
  ChallengeKind,
  ChallengeResponse,
  SubmitRequest,
} from "../../gen/gatehouse/v1/gate_pb.js";
import type { AgentRecord } from "../store/ports.js";

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

/** What the agent asked for that a kind may honour. */
export interface IssuePreferences {
  /** ChallengeRequest.reasoning_family; empty = the kind chooses. */
  readonly reasoningFamily: string;
}

/** Everything a kind may bind into what it issues. */
export interface IssueContext {
  readonly challengeId: string;
  readonly issuer: string;
  /** The server's configured challenge TTL; a kind may set its own deadline instead. */
  readonly defaultTtlMs: number;
  readonly preferences: IssuePreferences;
  readonly record: Omit<ChallengeRecord, "state" | "expiresAt">;
}

/** What a kind issues: the body the client sees and the state the server keeps. */
export interface IssuedChallenge {
  readonly body: ChallengeBody;
  readonly state: Record<string, string>;
  /** The deadline, Unix ms. */
  readonly expiresAt: number;
}

export type ChallengeBody = ChallengeResponse["body"];
type Answer = SubmitRequest["answer"];
export type AnswerCase = Exclude<Answer["case"], undefined>;

export interface VerifyContext {
  readonly challengeId: string;
  readonly issuer: string;
  readonly record: ChallengeRecord;
  /**
   * The agent the challenge was issued to, as registered now; undefined when it is gone.
   * Read once per submission and shared with the later submission checks.
   */
  agent(): Promise<AgentRecord | undefined>;
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
  issue(context: IssueContext): Promise<IssuedChallenge>;
  verify(context: VerifyContext, answer: Extract<Answer, { case: C }>["value"]): Promise<boolean>;
}

/** The installed kinds, by kind; built once at start-up from the configuration. */
export type ChallengeKinds = ReadonlyMap<ChallengeKind, ChallengeKindPlugin>;
