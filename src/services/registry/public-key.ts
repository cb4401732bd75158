import { parseEd25519PublicKey } from "../../crypto/ed25519.js";
import { invalidArgument } from "../../errors/index.js";

const PROBLEMS = {
  length: "must be a 32-byte Ed25519 public key",
  non_canonical: "is not a canonical Ed25519 point encoding",
  small_order: "is a weak (small-order) Ed25519 key",
  not_a_point: "is not an Ed25519 public key",
} as const;

/**
 * The lowercase hex of a raw Ed25519 public key sent by a client (an operator's key, an
 * agent's key at registration or rotation), once the one key parser accepts it: canonical
 * (RFC 8032 §5.1.3), on the curve and not of small order (such a key lets one signature
 * verify for every message). Otherwise INVALID_ARGUMENT naming `field` and the problem.
 */
export function screenedPublicKeyHex(raw: Uint8Array, field: string): string {
  const parsed = parseEd25519PublicKey(raw);
  if (!parsed.ok) throw invalidArgument(field, PROBLEMS[parsed.problem]);
  return Buffer.from(raw).toString("hex");
}
