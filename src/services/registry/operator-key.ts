import { ed25519 } from "@noble/curves/ed25519.js";
import { invalidArgument } from "../../errors/index.js";

/**
 * The lowercase hex of an operator's raw Ed25519 public key, once it is known to be one: 32
 * bytes that decode to a curve point (RFC 8032 §5.1.3) not of small order (such a key lets
 * one signature verify for many messages). Otherwise INVALID_ARGUMENT naming `field`.
 */
export function operatorKeyHex(raw: Uint8Array, field: string): string {
  if (raw.length !== 32) throw invalidArgument(field, "must be a 32-byte Ed25519 public key");
  let smallOrder: boolean;
  try {
    smallOrder = ed25519.Point.fromBytes(raw).isSmallOrder();
  } catch {
    throw invalidArgument(field, "is not an Ed25519 public key");
  }
  if (smallOrder) throw invalidArgument(field, "is a weak (small-order) Ed25519 key");
  return Buffer.from(raw).toString("hex");
}
