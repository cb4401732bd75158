import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { parseCompactJws } from "../../crypto/jose/compact.js";
import type { VerifyState } from "../types.js";

/** Longest token accepted; the contract enforces the same bound on the request field. */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * Parse & size limits. RFC 7515 §7.1 compact serialization: exactly three segments, each
 * canonical unpadded base64url (RFC 7515 §2, RFC 4648 §3.5: one token has one spelling, so a
 * re-encoded signature is not a second valid token); RFC 7519 §7.2 steps 1–10: the header
 * and payload decode to JSON objects. Anything else is TOKEN_MALFORMED before a key or a
 * claim is looked at.
 */
export function parseStep(state: VerifyState): Reason | undefined {
  const { token } = state.input;
  if (token.length > MAX_TOKEN_LENGTH) return Reason.TOKEN_MALFORMED;
  const jws = parseCompactJws(token);
  if (!jws) return Reason.TOKEN_MALFORMED;
  state.header = jws.header;
  state.payload = jws.payload;
  state.signingInput = jws.signingInput;
  state.signature = jws.signature;
  return undefined;
}
