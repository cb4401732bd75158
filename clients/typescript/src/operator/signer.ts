import { createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import { type DescMethod, type Message, toBinary } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { type Clock, systemClock } from "../../../../src/clock.js";
import { randomId } from "../../../../src/crypto/random.js";
import {
  type SignedRequestHeaders,
  signedRequestInput,
} from "../../../../src/identity/signed-request-format.js";

// RFC 8410 §7: PKCS#8 for Ed25519 is this fixed prefix + the 32-byte seed.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface OperatorSignerOptions {
  /** The operator's domain. */
  readonly domain: string;
  /** The operator's Ed25519 key: a node KeyObject, or its raw 32-byte seed. */
  readonly privateKey: KeyObject | Uint8Array;
  /** Where the timestamps come from; the system clock when omitted. */
  readonly clock?: Clock;
}

/**
 * Signs management calls as an operator (the scheme is documented on
 * `gatehouse.v1.RegistryService`). The connection still needs a client certificate from the
 * Gatehouse CA, but not an operator one.
 */
export interface OperatorSigner {
  readonly domain: string;
  /** The raw 32-byte public key, for `CreateOperatorRequest.public_key` / SetOperatorKey. */
  readonly publicKey: Uint8Array;
  /**
   * The headers of one call of `method` with `request`: the current time and a fresh nonce
   * each time, so the result is good for one call only. Fits `GrpcClientOptions.headers`.
   */
  headers(method: DescMethod, request: Message): SignedRequestHeaders;
}

export function createOperatorSigner(options: OperatorSignerOptions): OperatorSigner {
  const { domain, clock = systemClock } = options;
  const key = privateKeyOf(options.privateKey);
  const { x = "" } = createPublicKey(key).export({ format: "jwk" });
  return {
    domain,
    publicKey: Buffer.from(x, "base64url"),
    headers(method, request) {
      const timestamp = String(Math.floor(clock.now() / 1000));
      const nonce = randomId();
      const body = toBinary(method.input, request);
      const fullName = `${method.parent.typeName}/${method.name}`;
      const input = signedRequestInput({
        operator: domain,
        method: fullName,
        body,
        timestamp,
        nonce,
      });
      return {
        "gatehouse-operator": domain,
        "gatehouse-timestamp": timestamp,
        "gatehouse-nonce": nonce,
        "gatehouse-signature": sign(null, input, key).toString("base64url"),
      };
    },
  };
}

/** A Connect interceptor that signs every unary call with `signer`. */
export function operatorSigningInterceptor(signer: OperatorSigner): Interceptor {
  return (next) => async (request) => {
    if (!request.stream) {
      const headers = signer.headers(request.method, request.message);
      for (const [name, value] of Object.entries(headers)) request.header.set(name, value);
    }
    return next(request);
  };
}

function privateKeyOf(key: KeyObject | Uint8Array): KeyObject {
  if (!(key instanceof Uint8Array)) {
    if (key.type === "private" && key.asymmetricKeyType === "ed25519") return key;
    throw new TypeError("operator key must be an Ed25519 private key");
  }
  if (key.length !== 32) throw new RangeError("Ed25519 seed must be 32 bytes");
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, key]),
    format: "der",
    type: "pkcs8",
  });
}
