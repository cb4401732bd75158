import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { constantTimeEqual } from "../../crypto/constant-time.js";
import type { VerifyDeps, VerifyState } from "../types.js";

const MAX_JKT_LENGTH = 128;

/**
 * Proof of possession for key-bound tokens (RFC 9449 §7.1). A token with `cnf.jkt` (§6.1)
 * needs a proof: without one it is being used as a bearer token, which §7.2 says MUST be
 * refused (TOKEN_BOUND_TO_KEY). With one, every §4.3 check runs, `ath` must hash this token
 * and the proof key's thumbprint must equal `cnf.jkt`; the proof's `jti` is consumed last.
 *
 * A token without `cnf` is a bearer token (RFC 6750) whatever comes with it: a proof sent
 * alongside is ignored, not checked, and its `jti` not consumed. Refusing it would protect
 * nothing (whoever holds a bearer token can drop the proof), and §7.2 only forbids the
 * other direction, a bound token used as a bearer one.
 *
 * A delegated token (RFC 8693 §4.1 `act`) is bound to its current actor's key: only that
 * actor can present it, never its subject nor an earlier actor.
 *
 * Runs after the agent-status step: no store write (the `jti`) for a token that is otherwise
 * refused, and before scopes, so a stolen token's scopes are not probed without the key.
 */
export function dpopStep(
  state: VerifyState,
  deps: Pick<VerifyDeps, "dpop">,
): Reason | undefined | Promise<Reason | undefined> {
  const { cnf } = state.payload;
  // Decided without waiting (a bearer token): the pipeline then spends no microtask here.
  if (cnf === undefined) return undefined;
  const jkt = typeof cnf === "object" && cnf !== null ? (cnf as { jkt?: unknown }).jkt : undefined;
  // A confirmation method Gatehouse does not issue (x5t#S256, jwk, …) is not understood.
  if (typeof jkt !== "string" || jkt.length === 0 || jkt.length > MAX_JKT_LENGTH) {
    return Reason.TOKEN_CLAIMS_INVALID;
  }
  const { dpopProof, httpMethod, httpUrl, token, provenJkt } = state.input;
  // Token exchange: the token request's own proof (already verified) showed the key.
  if (provenJkt !== undefined) {
    return constantTimeEqual(provenJkt, jkt) ? undefined : Reason.DPOP_INVALID;
  }
  if (!dpopProof) return Reason.TOKEN_BOUND_TO_KEY;
  return deps.dpop
    .verify(dpopProof, {
      method: httpMethod ?? "",
      url: httpUrl ?? "",
      accessToken: token,
      expectedJkt: jkt,
    })
    .then((result) => {
      if (result.ok) return undefined;
      // Only a failure the bound key's holder made counts towards a freeze (envelope.ts).
      if (result.byKeyHolder) state.keyHolderProofFailed = true;
      return result.reason;
    });
}
