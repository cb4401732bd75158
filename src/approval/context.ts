import type { IncomingMessage } from "node:http";
import type { Audit } from "../audit/writer.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { ApproverRecord, Store } from "../store/ports.js";
import type { Session, Sessions } from "./session.js";
import type { CeremonyTickets } from "./tickets.js";
import type { RelyingParty } from "./webauthn/relying-party.js";

/** What the API handlers share, built once the listener is bound (the origin is known). */
export interface ApprovalContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly audit: Audit;
  readonly logger: Logger;
  readonly rp: RelyingParty;
  readonly sessions: Sessions;
  readonly tickets: CeremonyTickets;
  /** How long a WebAuthn ceremony may take (the options' `timeout`, the ticket's TTL). */
  readonly ceremonyTtlMs: number;
  /** The cooldown after a denial: `base * 2^(denials - 1)`, at most `max`. */
  readonly denialBackoff: { readonly baseMs: number; readonly maxMs: number };
}

/** One request as a handler sees it. */
export interface Call {
  readonly req: IncomingMessage;
  /** The path's captured parameters (a grant id). */
  readonly params: readonly string[];
  /** The JSON object body (size-limited, `application/json` only). */
  body(): Promise<Record<string, unknown>>;
}

/** The signed-in approver of a request, as the session guard established it. */
export interface SignedIn {
  /** The session cookie's value. */
  readonly sessionId: string;
  readonly session: Session;
  readonly approver: ApproverRecord;
}
