import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { verifyJwsSignature } from "../../crypto/jose/signature.js";
import type { VerifyState } from "../types.js";

/** Signature (RFC 7515 §5.2 step 8) with the key the header step resolved. */
export function signatureStep(state: VerifyState): Reason | undefined {
  const { key } = state;
  if (!key) return Reason.TOKEN_KID_UNKNOWN;
  const ok = verifyJwsSignature(key.alg, key.publicKey, state.signingInput, state.signature);
  return ok ? undefined : Reason.TOKEN_BAD_SIGNATURE;
}
