import type { ServerRole } from "../config/index.js";
import type { SigningKeyStore } from "../store/ports.js";

/**
 * The signing keys as a server in `role` may touch them. A verifier never creates one: its
 * key ring reads the keys an issuer made, and any attempt to add one (a first key on an
 * empty store, a scheduled successor) fails, so a verifier started before any issuer stops
 * at start-up instead of minting keys of its own.
 */
export function signingKeysFor(role: ServerRole, keys: SigningKeyStore): SigningKeyStore {
  if (role !== "verifier") return keys;
  return {
    list: () => keys.list(),
    add: () =>
      Promise.reject(
        new Error("a verifier never creates signing keys: start an issuer on this store first"),
      ),
  };
}

/** Scheduled rotation is the issuers' job: a verifier only follows the keys they publish. */
export function rotationIntervalFor(role: ServerRole, intervalSeconds: number): number {
  return role === "verifier" ? 0 : intervalSeconds;
}
