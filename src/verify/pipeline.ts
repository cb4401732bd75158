import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { openVerifyMemo } from "./cache.js";
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

export type VerifyDecision =
  | {
      readonly allowed: true;
      readonly claims: VerifiedClaims;
      /** Seconds a caller may cache this decision. */
      readonly cacheTtlSeconds: number;
    }
  | { readonly allowed: false; readonly reason: Reason; readonly claims?: VerifiedClaims };

/** Until the parse step sets them; empty, so there is nothing in it to change. */
const NO_BYTES = new Uint8Array(0);

export async function runVerifyPipeline(
  input: VerifyInput,
  deps: VerifyDeps,
): Promise<VerifyDecision> {
  const state: VerifyState = {
    input,
    now: Math.floor(deps.clock.now() / 1000),
    header: {},
    payload: {},
    signingInput: NO_BYTES,
    signature: NO_BYTES,
  };
  // The verified-token cache (cache.ts): a hit skips the stateless steps before `time`.
  const memo = deps.cache && openVerifyMemo(deps.cache, state, deps, VERIFY_STEPS, timeStep);
  const steps = memo?.steps ?? VERIFY_STEPS;
  // Indexed: an iterator held across awaits is allocated on every request.
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as VerifyStep;
    const outcome = step(state, deps);
    // Most steps are synchronous: only a promise is awaited (one microtask less per step).
    const reason = outcome instanceof Promise ? await outcome : outcome;
    if (reason !== undefined) {
      memo?.settle(state, reason);
      // A failed or replayed proof counts towards the agent's freeze (Policy.envelope).
      await recordProofFailure(state.agent, reason, deps);
      // Claims exist only once the signature step vouched for them.
      return state.claims
        ? { allowed: false, reason, claims: state.claims }
        : { allowed: false, reason };
    }
  }
  memo?.settle(state);
  const claims = state.claims;
  if (!claims) return { allowed: false, reason: Reason.TOKEN_CLAIMS_INVALID };
  const remaining = Math.max(0, claims.exp - state.now);
  // An envelope is decided per request (rate, budget, time, freeze): never cached.
  const cacheable = state.agent?.policy.envelope === undefined;
  return {
    allowed: true,
    claims,
    cacheTtlSeconds: cacheable ? Math.min(remaining, deps.settings.maxCacheTtlSeconds) : 0,
  };
}
