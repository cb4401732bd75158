import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { AgentRecord, OperatorRecord } from "../../store/ports.js";
import type { Pending } from "../lookup-cache.js";
import type { VerifyDeps, VerifyState } from "../types.js";

type Status = AgentRecord | Reason;

/**
 * Agent and operator status, read from the registry at verification time, for every
 * principal of the token: its subject and each actor of its delegation chain (RFC 8693
 * §4.1 `act`, current actor first). Suspending or revoking any of those agents or their
 * operators takes effect on the token at once; the first refusal is the reason.
 */
export function agentStatusStep(
  state: VerifyState,
  deps: VerifyDeps,
): Reason | undefined | Promise<Reason | undefined> {
  const claims = state.claims;
  if (!claims) return Reason.TOKEN_CLAIMS_INVALID;
  const actors = claims.actors ?? NO_ACTORS;
  // The subject must belong to the operator its token names.
  const { nowMs } = state;
  const subject = principalStatus(deps, nowMs, claims.sub, claims.operator);
  return subject instanceof Promise
    ? subject.then((status) => subjectThenActors(state, deps, status, actors))
    : subjectThenActors(state, deps, subject, actors);
}

/** The subject's status, then (once it is active) its actors'. */
function subjectThenActors(
  state: VerifyState,
  deps: VerifyDeps,
  subject: Status,
  actors: readonly string[],
): Pending<Reason | undefined> {
  if (typeof subject === "number") return subject;
  state.agent = subject;
  return actorsStatus(deps, state.nowMs, actors, 0);
}

const NO_ACTORS: readonly string[] = [];

/** The actors from `from` on, one after the other; undefined once every one is active. */
function actorsStatus(
  deps: VerifyDeps,
  nowMs: number,
  actors: readonly string[],
  from: number,
): Pending<Reason | undefined> {
  const did = actors[from];
  if (did === undefined) return undefined;
  return andThen(principalStatus(deps, nowMs, did), (actor) =>
    typeof actor === "number" ? actor : actorsStatus(deps, nowMs, actors, from + 1),
  );
}

/**
 * One agent and its operator: the record when both are active, else why not. Synchronous
 * when the registry's answers are cached (cache.ts).
 */
function principalStatus(
  deps: VerifyDeps,
  nowMs: number,
  did: string,
  operator?: string,
): Pending<Status> {
  // Plain functions on the synchronous path: a closure only when a look-up is pending.
  const agent = deps.registry.getAgent(did, nowMs);
  return agent instanceof Promise
    ? agent.then((record) => agentStanding(deps, nowMs, record, operator))
    : agentStanding(deps, nowMs, agent, operator);
}

/** The agent's own status, then its operator's. */
function agentStanding(
  deps: VerifyDeps,
  nowMs: number,
  agent: AgentRecord | undefined,
  operator: string | undefined,
): Pending<Status> {
  if (!agent || (operator !== undefined && agent.operatorDomain !== operator)) {
    return Reason.AGENT_NOT_FOUND;
  }
  // A deleted agent (a tombstone) is refused like a revoked one.
  if (agent.status === "revoked" || agent.status === "deleted") return Reason.AGENT_REVOKED;
  if (agent.status === "suspended") return Reason.AGENT_SUSPENDED;
  const record = deps.registry.getOperator(agent.operatorDomain, nowMs);
  return record instanceof Promise
    ? record.then((found) => operatorStanding(found, agent))
    : operatorStanding(record, agent);
}

/** The agent's record when its operator is active, else why not. */
function operatorStanding(record: OperatorRecord | undefined, agent: AgentRecord): Status {
  if (!record) return Reason.OPERATOR_NOT_FOUND;
  if (record.status === "revoked") return Reason.OPERATOR_REVOKED;
  if (record.status !== "active") return Reason.OPERATOR_SUSPENDED;
  return agent;
}

/** `next(value)` now when `value` is not a promise, else once it settles. */
function andThen<T, R>(value: Pending<T>, next: (value: T) => Pending<R>): Pending<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
