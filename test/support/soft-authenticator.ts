/**
 * A software WebAuthn authenticator, for the integration tests only. Node has no WebAuthn API,
 * so this stands in for a browser and a platform authenticator: it answers the JSON options the
 * approval API sends with what `PublicKeyCredential.toJSON()` would return, signing with an
 * ES256 (P-256) key from node:crypto. It builds the bytes the spec defines: clientDataJSON
 * (WebAuthn L3 §5.8.1), authenticator data (§6.1) with attested credential data (§6.5.1), a
 * COSE_Key (RFC 9053 §7.1.1), and a "none" attestation object (§8.7) in hand-written CBOR
 * (RFC 8949). Every knob breaks one thing, for the negative tests. The browser test
 * (test/browser/approval.browser.test.ts) uses Chromium's real virtual authenticator instead.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";

/** Authenticator data flags (WebAuthn L3 §6.1). */
export const FLAGS = { UP: 0x01, UV: 0x04, AT: 0x40 } as const;

/** What a test may change in one response; each defaults to the honest value. */
export interface Tampering {
  /** `origin` in clientDataJSON. */
  readonly origin?: string;
  /** The RP ID whose SHA-256 starts the authenticator data. */
  readonly rpId?: string;
  /** The flags byte (AT is added when registering). Default UP | UV. */
  readonly flags?: number;
  /** `crossOrigin` in clientDataJSON. */
  readonly crossOrigin?: boolean;
  /** Leave out the user handle of an assertion. */
  readonly omitUserHandle?: boolean;
}

interface Credential {
  readonly id: string;
  readonly rpId: string;
  readonly userHandle: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  counter: number;
}

export interface SoftAuthenticator {
  /** `navigator.credentials.create()`: a new resident ES256 credential. */
  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    tampering?: Tampering,
  ): RegistrationResponseJSON;
  /**
   * `navigator.credentials.get()`: an assertion by a credential in `allowCredentials`, or,
   * when that is empty, by the newest credential for the RP (a discoverable credential).
   */
  assert(
    options: PublicKeyCredentialRequestOptionsJSON,
    tampering?: Tampering,
  ): AuthenticationResponseJSON;
}

/** A software authenticator used from a page at `origin`. */
export function createSoftAuthenticator(origin: string): SoftAuthenticator {
  const credentials: Credential[] = [];
  return {
    register(options, tampering = {}) {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const credential: Credential = {
        id: randomBytes(16).toString("base64url"),
        rpId: options.rp.id ?? new URL(origin).hostname,
        userHandle: options.user.id,
        privateKey,
        publicKey,
        counter: 0,
      };
      credentials.push(credential);
      const clientData = clientDataJSON("webauthn.create", options.challenge, origin, tampering);
      const attested = Buffer.concat([
        Buffer.alloc(16), // AAGUID: none
        u16(Buffer.from(credential.id, "base64url").length),
        Buffer.from(credential.id, "base64url"),
        coseKey(publicKey),
      ]);
      const flags = (tampering.flags ?? FLAGS.UP | FLAGS.UV) | FLAGS.AT;
      const authData = authenticatorData(credential, flags, tampering, attested);
      const attestationObject = cbor(
        new Map<Cbor, Cbor>([
          ["fmt", "none"],
          ["attStmt", new Map()],
          ["authData", authData],
        ]),
      );
      return {
        id: credential.id,
        rawId: credential.id,
        type: "public-key",
        response: {
          clientDataJSON: clientData.toString("base64url"),
          attestationObject: attestationObject.toString("base64url"),
          transports: ["internal"],
        },
        clientExtensionResults: {},
        authenticatorAttachment: "platform",
      };
    },

    assert(options, tampering = {}) {
      const allowed = (options.allowCredentials ?? []).map((c) => c.id);
      const credential = credentials.findLast((c) =>
        allowed.length > 0 ? allowed.includes(c.id) : c.rpId === options.rpId,
      );
      if (!credential) throw new Error("soft authenticator: no matching credential");
      credential.counter += 1;
      const clientData = clientDataJSON("webauthn.get", options.challenge, origin, tampering);
      const authData = authenticatorData(
        credential,
        tampering.flags ?? FLAGS.UP | FLAGS.UV,
        tampering,
      );
      const signed = Buffer.concat([authData, createHash("sha256").update(clientData).digest()]);
      return {
        id: credential.id,
        rawId: credential.id,
        type: "public-key",
        response: {
          clientDataJSON: clientData.toString("base64url"),
          authenticatorData: authData.toString("base64url"),
          // ES256 signatures are DER-encoded (WebAuthn L3 §6.5.5), node's default.
          signature: sign("sha256", signed, credential.privateKey).toString("base64url"),
          ...(tampering.omitUserHandle ? {} : { userHandle: credential.userHandle }),
        },
        clientExtensionResults: {},
        authenticatorAttachment: "platform",
      };
    },
  };
}

/** The same response with one signature byte flipped. */
export function withFlippedSignature(
  response: AuthenticationResponseJSON,
): AuthenticationResponseJSON {
  const signature = Buffer.from(response.response.signature, "base64url");
  signature[signature.length - 1] = (signature.at(-1) ?? 0) ^ 0x01;
  return {
    ...response,
    response: { ...response.response, signature: signature.toString("base64url") },
  };
}

function clientDataJSON(type: string, challenge: string, origin: string, tampering: Tampering) {
  return Buffer.from(
    JSON.stringify({
      type,
      challenge,
      origin: tampering.origin ?? origin,
      crossOrigin: tampering.crossOrigin ?? false,
    }),
  );
}

/** rpIdHash ‖ flags ‖ signCount (big-endian) ‖ attested credential data (WebAuthn L3 §6.1). */
function authenticatorData(
  credential: Credential,
  flags: number,
  tampering: Tampering,
  attested: Buffer = Buffer.alloc(0),
): Buffer {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(credential.counter);
  return Buffer.concat([
    createHash("sha256")
      .update(tampering.rpId ?? credential.rpId)
      .digest(),
    Buffer.from([flags]),
    counter,
    attested,
  ]);
}

/** An EC2 P-256 COSE_Key for ES256: {kty: 2, alg: -7, crv: 1, x, y} (RFC 9053 §7.1.1). */
function coseKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  return cbor(
    new Map<Cbor, Cbor>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x ?? "", "base64url")],
      [-3, Buffer.from(jwk.y ?? "", "base64url")],
    ]),
  );
}

function u16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
}

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

/** The few CBOR items the structures above need (RFC 8949 §3.1): ints, strings, bytes, maps. */
function cbor(value: Cbor): Buffer {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") return withHead(3, Buffer.from(value, "utf8"));
  if (value instanceof Uint8Array) return withHead(2, Buffer.from(value));
  const entries = [...value].flatMap(([key, item]) => [cbor(key), cbor(item)]);
  return Buffer.concat([head(5, value.size), ...entries]);
}

function withHead(major: number, bytes: Buffer): Buffer {
  return Buffer.concat([head(major, bytes.length), bytes]);
}

function head(major: number, argument: number): Buffer {
  const type = major << 5;
  if (argument < 24) return Buffer.from([type | argument]);
  if (argument < 0x100) return Buffer.from([type | 24, argument]);
  if (argument < 0x10000) return Buffer.concat([Buffer.from([type | 25]), u16(argument)]);
  const long = Buffer.alloc(5);
  long[0] = type | 26;
  long.writeUInt32BE(argument, 1);
  return long;
}
