import type { ActorClaim } from "../../../../crypto/jws.js";
import type { ScopeAuthority } from "../../../../grants/allowance.js";
import type { AgentRecord } from "../../../../store/ports.js";

/**
 * What a token flow establishes, whatever the OAuth grant type: who the token is for and
 * what it may carry. ../issue.ts turns it into a signed token; each flow is one file here.
 */
export interface FlowOutcome {
  /**
   * The principal (`sub`): the agent whose authority the token carries (its policy, its
   * grants, its envelope), already checked active.
   */
  readonly agent: AgentRecord;
  /**
   * The agent that made this request: `agent` itself, or the current actor of a delegated
   * subject token (token exchange). A DPoP proof on the request must be by its key.
   */
  readonly presenter: AgentRecord;
  /**
   * Delegation (RFC 8693): the agent the token is handed to, already checked active. It is
   * the token's current actor (`act.sub`), and the token is bound to its registered key.
   */
  readonly delegate?: AgentRecord;
  /** Sorted, unique; already checked against policy (and, for exchange, the subject token). */
  readonly scopes: readonly string[];
  readonly audience: string;
  /** Latest allowed `exp` in Unix seconds (token exchange: never beyond the subject's). */
  readonly notAfter?: number;
  /** Requested lifetime in seconds, capped by policy and the server maximum. */
  readonly ttlSeconds?: number;
  /** RFC 8693 §4.1 delegation chain, the current actor outermost; absent = none. */
  readonly act?: ActorClaim;
  /** The approved grants behind scopes the standing policy does not cover. */
  readonly authority: ScopeAuthority;
  /** Token exchange: the `jti`s of the subject token and of the tokens it derives from. */
  readonly derivedFrom?: readonly string[];
}
