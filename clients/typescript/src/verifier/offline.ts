import type { Reason } from "../../../../gen/gatehouse/v1/errors_pb.js";
import { Reason as R } from "../../../../gen/gatehouse/v1/errors_pb.js";
import type { Clock } from "../../../../src/clock.js";
import type { DpopVerifier } from "../../../../src/dpop/verifier.js";
import { audienceStep } from "../../../../src/verify/steps/audience.js";
import { claimsStep } from "../../../../src/verify/steps/claims.js";
import { dpopStep } from "../../../../src/verify/steps/dpop.js";
import { headerStep } from "../../../../src/verify/steps/header.js";
import { issuerStep } from "../../../../src/verify/steps/issuer.js";
import { parseStep } from "../../../../src/verify/steps/parse.js";
import { signatureStep } from "../../../../src/verify/steps/signature.js";
import { timeStep } from "../../../../src/verify/steps/time.js";
import type { VerifyInput, VerifySettings, VerifyState } from "../../../../src/verify/types.js";
import type { JwksKeySet } from "./jwks.js";
import { refused, type VerifyOutcome } from "./outcome.js";

/** What the offline steps read: the key set, the settings, the DPoP verifier. */
export interface OfflineDeps {
  readonly keys: JwksKeySet;
  readonly settings: VerifySettings;
  readonly dpop: DpopVerifier;
  readonly clock: Clock;
}

/** One offline check: a Reason to refuse, undefined to go on. */
export type OfflineStep = (
  state: VerifyState,
  deps: OfflineDeps,
) => Reason | undefined | Promise<Reason | undefined>;

/** Offline, only the token's own scopes can be checked (RFC 6750 §3.1 `insufficient_scope`). */
const tokenScopesStep: OfflineStep = (state) =>
  state.input.requiredScopes.every((scope) => state.claims?.scopes.includes(scope))
    ? undefined
    : R.INSUFFICIENT_SCOPE;

/**
 * The server's own verification steps (src/verify/steps/, the same code, in the same order),
 * up to what needs Gatehouse's store: revocation, agent status, grants, the agent's current
 * policy and envelopes are checked only by online Verify.
 */
export const OFFLINE_STEPS: readonly OfflineStep[] = [
  parseStep,
  headerStep,
  signatureStep,
  claimsStep,
  issuerStep,
  audienceStep,
  timeStep,
  dpopStep,
  tokenScopesStep,
];

/** Runs the offline steps; the first that refuses names the reason. */
export async function verifyOffline(input: VerifyInput, deps: OfflineDeps): Promise<VerifyOutcome> {
  await deps.keys.ensureFresh();
  const nowMs = deps.clock.now();
  const state: VerifyState = {
    input,
    nowMs,
    now: Math.floor(nowMs / 1000),
    header: {},
    payload: {},
    signingInput: new Uint8Array(0),
    signature: new Uint8Array(0),
  };
  for (const step of OFFLINE_STEPS) {
    const reason = await step(state, deps);
    if (reason !== undefined) {
      const nonce = reason === R.DPOP_NONCE_REQUIRED ? deps.dpop.nonce() : undefined;
      return refused(reason, nonce);
    }
  }
  const claims = state.claims;
  if (!claims) return refused(R.TOKEN_CLAIMS_INVALID);
  return {
    allowed: true,
    token: {
      agentDid: claims.sub,
      actorDid: claims.actors?.[0] ?? "",
      operatorDomain: claims.operator,
      scopes: claims.scopes,
      expiresAtMs: claims.exp * 1000,
      tokenId: claims.jti,
      source: "offline",
    },
  };
}
