import { type DescMessage, type Message, toBinary } from "@bufbuild/protobuf";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import type { Clock } from "../clock.js";
import { verifyEd25519 } from "../crypto/ed25519.js";
import { decodeBase64url } from "../crypto/jose/base64url.js";
import { GatehouseError } from "../errors/index.js";
import type { Store } from "../store/ports.js";
import type { Caller } from "./caller.js";
import {
  SIGNED_REQUEST_HEADERS,
  type SignedRequestHeaders,
  signedRequestInput,
} from "./signed-request-format.js";

export interface SignedRequestOptions {
  readonly store: Pick<Store, "registry" | "nonces">;
  readonly clock: Clock;
  /** How far a request's timestamp may be from now, either way. Nonces live twice as long. */
  readonly windowMs: number;
}

/** The method a request is for, as the dispatcher knows it. */
export interface SignedMethod {
  /** `package.Service/Method`. */
  readonly fullName: string;
  readonly input: DescMessage;
  /** Whether the per-RPC table lets operators call it (src/server/policy.ts). */
  readonly operatorMayCall: boolean;
}

/** What the authenticator reads of a call. */
export interface SignedCall {
  /** The caller its certificate (or a trusted proxy) named. */
  readonly caller: Caller;
  header(name: string): readonly string[];
}

/**
 * Authenticates a call by something other than its certificate: returns the caller it
 * proves, undefined when the call does not use it, and throws a typed error when it uses it
 * wrongly. It answers "not used" synchronously (every other call pays no await for it).
 */
export type RequestAuthenticator = (
  method: SignedMethod,
  request: Message,
  call: SignedCall,
) => Promise<Caller> | undefined;

const HEADER_NAMES = Object.values(SIGNED_REQUEST_HEADERS);
/** The operator domain pattern of `CreateOperatorRequest.domain`. */
const DOMAIN =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Decimal Unix seconds, no sign, no leading zero. */
const TIMESTAMP = /^(0|[1-9][0-9]{0,11})$/;
const NONCE_BYTES = [16, 64] as const;
const NONCE_NAMESPACE = "operator-request";
const SIGNATURE_BYTES = 64;

/**
 * Authenticates an operator by an Ed25519-signed request instead of an operator certificate
 * (the scheme is documented on `gatehouse.v1.RegistryService`). A call carrying none of the
 * four headers is left to its certificate (undefined); one carrying any of them is judged by
 * them alone. The checks run in a fixed order, cheapest and least revealing first; the nonce
 * is spent only once the signature holds, so nobody can burn an operator's nonces.
 */
export function createSignedRequestAuthenticator(
  options: SignedRequestOptions,
): RequestAuthenticator {
  const { store, clock, windowMs } = options;
  return (method, request, call) => {
    const headers = readHeaders(call.header);
    // The usual call (a certificate, no signature): answered without a promise.
    if (headers === "absent") return undefined;
    return judge(method, request, call, headers);
  };

  async function judge(
    method: Parameters<RequestAuthenticator>[0],
    request: Parameters<RequestAuthenticator>[1],
    call: Parameters<RequestAuthenticator>[2],
    headers: SignedRequestHeaders | "invalid",
  ): Promise<Caller> {
    if (headers === "invalid") throw signatureInvalid();
    // Defense in depth: the connection still needs a client certificate from the CA.
    if (!call.caller.fingerprint) throw new GatehouseError(Reason.UNAUTHENTICATED);
    if (!method.operatorMayCall) {
      throw new GatehouseError(Reason.PERMISSION_DENIED);
    }
    if (!wellFormed(headers)) throw signatureInvalid();
    const {
      "gatehouse-operator": operator,
      "gatehouse-timestamp": timestamp,
      "gatehouse-nonce": nonce,
      "gatehouse-signature": signature,
    } = headers;
    if (Math.abs(clock.now() - Number(timestamp) * 1000) > windowMs) {
      throw new GatehouseError(Reason.REQUEST_EXPIRED);
    }
    // Unknown, keyless and inactive operators all answer the same: nothing is revealed.
    const record = await store.registry.getOperator(operator);
    if (record?.status !== "active" || record.publicKeyHex === undefined) {
      throw signatureInvalid();
    }
    const body = toBinary(method.input, request);
    const input = signedRequestInput({ operator, method: method.fullName, body, timestamp, nonce });
    const publicKey = Buffer.from(record.publicKeyHex, "hex");
    // wellFormed checked the signature is canonical base64url of 64 bytes.
    if (!verifyEd25519(publicKey, input, decodeBase64url(signature) ?? Buffer.alloc(0))) {
      throw signatureInvalid();
    }
    // Per operator: neither a domain nor a base64url nonce holds ":", so ids never collide.
    const fresh = await store.nonces.useOnce(NONCE_NAMESPACE, `${operator}:${nonce}`, 2 * windowMs);
    if (!fresh) throw new GatehouseError(Reason.REQUEST_REPLAYED);
    const caller: Caller = {
      fingerprint: call.caller.fingerprint,
      uris: [],
      role: "operator",
      operatorDomain: operator,
    };
    return Object.freeze(caller);
  }
}

/**
 * "absent" when none of the headers is sent; "invalid" unless each is sent exactly once.
 * (Connect joins a repeated header with ", ", which no well-formed value holds.)
 */
function readHeaders(
  header: (name: string) => readonly string[],
): SignedRequestHeaders | "absent" | "invalid" {
  const values = HEADER_NAMES.map((name) => header(name));
  if (values.every((sent) => sent.length === 0)) return "absent";
  if (values.some((sent) => sent.length !== 1)) return "invalid";
  return Object.fromEntries(
    HEADER_NAMES.map((name, i) => [name, values[i]?.[0]]),
  ) as SignedRequestHeaders;
}

function wellFormed(headers: SignedRequestHeaders): boolean {
  return (
    DOMAIN.test(headers["gatehouse-operator"]) &&
    TIMESTAMP.test(headers["gatehouse-timestamp"]) &&
    isBase64url(headers["gatehouse-nonce"], ...NONCE_BYTES) &&
    isBase64url(headers["gatehouse-signature"], SIGNATURE_BYTES, SIGNATURE_BYTES)
  );
}

/** Unpadded, canonical base64url of `min`..`max` bytes: one value has one spelling. */
function isBase64url(value: string, min: number, max: number): boolean {
  const bytes = decodeBase64url(value);
  return bytes !== undefined && bytes.length >= min && bytes.length <= max;
}

/** The one answer for every refused signature: it never says which check failed. */
function signatureInvalid(): GatehouseError {
  return new GatehouseError(Reason.REQUEST_SIGNATURE_INVALID);
}
