/**
 * The versioned, domain-separated signing input every agent signature covers:
 *
 *   "GATEHOUSE-SIG" 0x00 "v1" 0x00 <purpose> 0x00
 *   then per field, in order: <name> 0x00 <uint32 big-endian byte length> <value bytes>
 *
 * The purpose separates contexts (a challenge signature can never pass as a registration
 * proof); length prefixes make the encoding injective, so no two field lists share bytes.
 * Documented on `gatehouse.v1.SignatureChallenge`; SDKs rebuild it before signing.
 */
export const SIGNING_INPUT_FORMAT = "v1";
const MAGIC = "GATEHOUSE-SIG";

export type SigningPurpose =
  | "challenge"
  | "register-agent"
  | "rotate-agent-key"
  | "operator-request"
  | "grant-decision";

export function encodeSigningInput(
  purpose: SigningPurpose,
  fields: readonly (readonly [name: string, value: string])[],
): Uint8Array {
  // Sized first, then written in place: one allocation per signing input (it is built on
  // every Challenge and Submit), not three per field.
  const head = `${MAGIC}\0${SIGNING_INPUT_FORMAT}\0${purpose}\0`;
  let size = Buffer.byteLength(head);
  for (const [name, value] of fields) {
    size += Buffer.byteLength(name) + 1 + 4 + Buffer.byteLength(value);
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0);
  for (const [name, value] of fields) {
    at += out.write(name, at);
    at = out.writeUInt8(0, at);
    const length = out.write(value, at + 4);
    at = out.writeUInt32BE(length, at) + length;
  }
  return out;
}

/** The registration signing input an agent's proof of possession covers. */
export function registrationSigningInput(
  did: string,
  publicKey: Uint8Array,
  operatorDomain: string,
): Uint8Array {
  return encodeSigningInput("register-agent", [
    ["did", did],
    ["public_key", Buffer.from(publicKey).toString("hex")],
    ["operator", operatorDomain],
  ]);
}

/**
 * The rotation signing input RotateAgentKey requires signed by both the current and the
 * new key: neither can rotate alone, and the proof binds the DID, both keys and the operator.
 */
export function rotationSigningInput(
  did: string,
  currentPublicKey: Uint8Array,
  newPublicKey: Uint8Array,
  operatorDomain: string,
): Uint8Array {
  return encodeSigningInput("rotate-agent-key", [
    ["did", did],
    ["current_public_key", Buffer.from(currentPublicKey).toString("hex")],
    ["new_public_key", Buffer.from(newPublicKey).toString("hex")],
    ["operator", operatorDomain],
  ]);
}
