import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { randomId, sha256Hex } from "../crypto/random.js";
import { GatehouseError } from "../errors/index.js";
import type { GrantDecision } from "../grants/lifecycle.js";
import type { OneTimeStore } from "../store/ports.js";

/** A registration ceremony started from a redeemed invite. */
export interface RegistrationTicket {
  readonly kind: "registration";
  /** base64url, as sent in the creation options. */
  readonly challenge: string;
  readonly operatorDomain: string;
  readonly displayName: string;
  /** base64url WebAuthn user handle the passkey is created for. */
  readonly userHandle: string;
}

/** A sign-in ceremony. */
export interface LoginTicket {
  readonly kind: "login";
  readonly challenge: string;
}

/**
 * A decision ceremony. The challenge is not stored: it is recomputed from the grant as it is
 * when the decision arrives (`decisionChallenge`), so a grant changed since cannot be decided.
 */
export interface DecisionTicket {
  readonly kind: "decision";
  readonly grantId: string;
  readonly decision: GrantDecision;
  readonly nonce: string;
  readonly approverId: string;
  /** The grant's revision the approver was shown. */
  readonly revision: number;
}

export type CeremonyTicket = RegistrationTicket | LoginTicket | DecisionTicket;
type TicketOf<K extends CeremonyTicket["kind"]> = Extract<CeremonyTicket, { kind: K }>;

export interface CeremonyTickets {
  /** Stores the ticket for the ceremony's lifetime; returns its id (a bearer secret). */
  issue(ticket: CeremonyTicket): Promise<string>;
  /**
   * Consumes a ticket on the first attempt, whatever follows (principle: single use is
   * atomic). Unknown, used, expired or of another kind: APPROVAL_REPLAYED.
   */
  redeem<K extends CeremonyTicket["kind"]>(id: string, kind: K): Promise<TicketOf<K>>;
}

/**
 * WebAuthn ceremony state, one single-use record per ceremony (a challenge is used once:
 * WebAuthn L2 §13.4.3, "Cryptographic Challenges"). Kept under the id's hash, like invites,
 * so a store dump holds nothing a client could present.
 */
export function createCeremonyTickets(
  store: OneTimeStore<unknown>,
  ttlMs: number,
): CeremonyTickets {
  const keyOf = (id: string) => `ceremony:${sha256Hex(id)}`;
  return {
    async issue(ticket) {
      const id = randomId();
      await store.put(keyOf(id), ticket, ttlMs);
      return id;
    },
    async redeem<K extends CeremonyTicket["kind"]>(id: string, kind: K): Promise<TicketOf<K>> {
      const result = await store.consume(keyOf(id));
      const ticket = result.status === "ok" ? (result.value as CeremonyTicket) : undefined;
      if (ticket?.kind !== kind) {
        throw new GatehouseError(Reason.APPROVAL_REPLAYED);
      }
      return ticket as TicketOf<K>;
    },
  };
}
