import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { memoSteps, openVerifyMemo, type VerifyMemo } from "./cache.js";
import { agentStatusStep } from "./steps/agent-status.js";
import { audienceStep } from "./steps/audience.js";
import { claimsStep } from "./steps/claims.js";
import { dpopStep } from "./steps/dpop.js";
import { envelopeStep, recordProofFailure } from "./steps/envelope.js";
import { grantsStep } from "./steps/grants.js";
import { headerStep } from "./steps/header.js";
import { issuerStep } from "./steps/issuer.js";
import { parseStep } from "./steps/parse.js";
import { revocationStep } from "./steps/revocation.js";
import { scopesStep } from "./steps/scopes.js";
import { signatureStep } from "./steps/signature.js";
import { timeStep } from "./steps/time.js";
import type { VerifiedClaims, VerifyDeps, VerifyInput, VerifyState, VerifyStep } from "./types.js";

/**
 * The verification order. It is a security property: nothing from the payload is trusted
 * before the signature step, and nothing is looked up in the store for a token whose
 * signature, issuer, audience or lifetime is wrong.
 */
export const VERIFY_STEPS: readonly VerifyStep[] = [
  parseStep,
  headerStep,
  signatureStep,
  claimsStep,
  issuerStep,
  audienceStep,
  timeStep,
  revocationStep,
  agentStatusStep,
  grantsStep,
  dpopStep,
  scopesStep,
  // Last: it writes (request rate, budget), so only for a request every other step allowed.
  envelopeStep,
];

/**
 * The same order with the verified-token cache: a hit restores what the stateless steps
 * (parse to audience) established and runs the rest, from the time step on (cache.ts).
 */
export const VERIFY_MEMO_STEPS = memoSteps(VERIFY_STEPS, timeStep);

export type VerifyDecision =
  | {
      readonly allowed: true;
      readonly claims: VerifiedClaims;
      /** Seconds a caller may cache this decision. */
      readonly cacheTtlSeconds: number;
    }
  | { readonly allowed: false; readonly reason: Reason; readonly claims?: VerifiedClaims };

/** Until the parse step sets them; empty, so there is nothing in them to change. */
const NO_BYTES = new Uint8Array(0);
const NO_MEMBERS: Record<string, unknown> = Object.freeze({});

/**
 * Runs every step in order. Synchronous while the steps are (a cached Verify, whose store
 * look-ups are cached too, waits for nothing): a promise is returned only once a step needs
 * one, so the usual call costs no promise and no microtask per step.
 */
export function runVerifyPipeline(
  input: VerifyInput,
  deps: VerifyDeps,
): VerifyDecision | Promise<VerifyDecision> {
  const nowMs = deps.clock.now();
  const state: VerifyState = {
    input,
    nowMs,
    now: Math.floor(nowMs / 1000),
    header: NO_MEMBERS,
    payload: NO_MEMBERS,
    signingInput: NO_BYTES,
    signature: NO_BYTES,
    // Present from the start, as the steps will set them: one object shape, no property
    // added (and no property store grown) per request.
    statelessPassed: undefined,
    key: undefined,
    claims: undefined,
    agent: undefined,
    grantScopes: undefined,
    keyHolderProofFailed: undefined,
  };
  // The verified-token cache (cache.ts): a hit skips the stateless steps before `time`.
  const memo = deps.cache && openVerifyMemo(deps.cache, state, deps, VERIFY_MEMO_STEPS);
  return runSteps({ state, deps, memo, steps: memo?.steps ?? VERIFY_STEPS }, 0);
}

/** One run of the pipeline. */
interface Run {
  readonly state: VerifyState;
  readonly deps: VerifyDeps;
  readonly memo: VerifyMemo | undefined;
  readonly steps: readonly VerifyStep[];
}

/** The steps from `first` on: in this call until one answers with a promise, then after it. */
function runSteps(run: Run, first: number): VerifyDecision | Promise<VerifyDecision> {
  const { state, deps, steps } = run;
  for (let i = first; i < steps.length; i++) {
    const outcome = (steps[i] as VerifyStep)(state, deps);
    if (outcome instanceof Promise) {
      return outcome.then((reason) =>
        reason === undefined ? runSteps(run, i + 1) : denied(run, reason),
      );
    }
    if (outcome !== undefined) return denied(run, outcome);
  }
  return allowed(run);
}

async function denied({ state, deps, memo }: Run, reason: Reason): Promise<VerifyDecision> {
  memo?.settle(state, reason);
  // A proof the key's holder got wrong counts towards the agent's freeze (Policy.envelope).
  await recordProofFailure(state, deps);
  // Claims exist only once the signature step vouched for them.
  return state.claims
    ? { allowed: false, reason, claims: state.claims }
    : { allowed: false, reason };
}

function allowed({ state, deps, memo }: Run): VerifyDecision {
  memo?.settle(state);
  const claims = state.claims;
  if (!claims) return { allowed: false, reason: Reason.TOKEN_CLAIMS_INVALID };
  const remaining = Math.max(0, claims.exp - state.now);
  // An envelope is decided per request (rate, budget, time, freeze), and a key-bound token
  // needs a fresh proof on every request (RFC 9449 §7.1, a `jti` used once): never cached.
  const cacheable = state.agent?.policy.envelope === undefined && state.payload.cnf === undefined;
  return {
    allowed: true,
    claims,
    cacheTtlSeconds: cacheable ? Math.min(remaining, deps.settings.maxCacheTtlSeconds) : 0,
  };
}
