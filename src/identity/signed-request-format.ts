import { sha256Hex } from "../crypto/random.js";
import { encodeSigningInput } from "../crypto/signing-input.js";

/**
 * The signed operator request, shared by the signer (src/client/operator-signer.ts) and the
 * verifier (signed-request.ts); documented on `gatehouse.v1.RegistryService`.
 *
 * Header names (gRPC metadata keys / HTTP header names), lowercase.
 */
export const SIGNED_REQUEST_HEADERS = {
  operator: "gatehouse-operator",
  timestamp: "gatehouse-timestamp",
  nonce: "gatehouse-nonce",
  signature: "gatehouse-signature",
} as const;

/** The four header values of one signed request. */
export type SignedRequestHeaders = {
  readonly [K in keyof typeof SIGNED_REQUEST_HEADERS as (typeof SIGNED_REQUEST_HEADERS)[K]]: string;
};

/** What one signature covers. Every value is signed exactly as it travels in its header. */
export interface SignedRequestFields {
  /** The operator's domain. */
  readonly operator: string;
  /** `package.Service/Method`. */
  readonly method: string;
  /** The request message's binary protobuf encoding (protobuf-es `toBinary`). */
  readonly body: Uint8Array;
  /** Unix seconds, decimal. */
  readonly timestamp: string;
  /** 16–64 random bytes, base64url. */
  readonly nonce: string;
}

/**
 * The bytes an operator signs: the "operator-request" signing input over the operator, the
 * method, the lowercase hex SHA-256 of the body, the timestamp and the nonce, in that order.
 * Binding the method and the body stops a signature from authorising any other call.
 */
export function signedRequestInput(fields: SignedRequestFields): Uint8Array {
  return encodeSigningInput("operator-request", [
    ["operator", fields.operator],
    ["method", fields.method],
    ["body_sha256", sha256Hex(fields.body)],
    ["timestamp", fields.timestamp],
    ["nonce", fields.nonce],
  ]);
}
