import type { ActorClaim } from "../../../crypto/jws.js";
import type { ScopeAuthority } from "../../../grants/scopes.js";
import type { AgentRecord } from "../../../store/ports.js";

/**
 * What a grant establishes, whatever its type: who the token is for and what it may carry.
 * issue.ts turns it into a signed token; each grant is one file beside it.
 */
export interface GrantOutcome {
  /** The agent the token is issued to (`sub`), already checked active. */
  readonly agent: AgentRecord;
  /** Sorted, unique; already checked against policy (and, for exchange, the subject token). */
  readonly scopes: readonly string[];
  readonly audience: string;
  /** Latest allowed `exp` in Unix seconds (token exchange: never beyond the subject's). */
  readonly notAfter?: number;
  /** Requested lifetime in seconds, capped by policy and the server maximum. */
  readonly ttlSeconds?: number;
  /** RFC 8693 delegation chain. */
  readonly act?: ActorClaim;
  /** The approved grants behind scopes the standing policy does not cover. */
  readonly authority: ScopeAuthority;
  /** Token exchange: the `jti`s of the subject token and of the tokens it derives from. */
  readonly derivedFrom?: readonly string[];
}
