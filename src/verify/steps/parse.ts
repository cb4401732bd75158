import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import { decodeJsonSegment } from "../../crypto/jws.js";
import type { VerifyState } from "../types.js";

/** Longest token accepted; the contract enforces the same bound on the request field. */
export const MAX_TOKEN_LENGTH = 8192;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Parse & size limits. RFC 7515 §7.1 compact serialization: exactly three base64url
 * segments, no padding; RFC 7519 §7.2 steps 1–10: the header and payload decode to JSON
 * objects. Anything else is TOKEN_MALFORMED before a key or a claim is looked at.
 */
export function parseStep(state: VerifyState): Reason | undefined {
  const { token } = state.input;
  if (token.length > MAX_TOKEN_LENGTH) return Reason.TOKEN_MALFORMED;
  const parts = token.split(".");
  if (parts.length !== 3) return Reason.TOKEN_MALFORMED;
  const [header, payload, signature] = parts as [string, string, string];
  if (!SEGMENT.test(header) || !SEGMENT.test(payload) || !SEGMENT.test(signature)) {
    return Reason.TOKEN_MALFORMED;
  }
  const headerObject = decodeJsonSegment(header);
  const payloadObject = decodeJsonSegment(payload);
  if (!headerObject || !payloadObject) return Reason.TOKEN_MALFORMED;
  state.header = headerObject;
  state.payload = payloadObject;
  state.signingInput = Buffer.from(`${header}.${payload}`, "ascii");
  state.signature = Buffer.from(signature, "base64url");
  return undefined;
}
