import type { IncomingMessage } from "node:http";
import { randomId, sha256Hex } from "../crypto/random.js";
import type { ApproverRecord, ExpiringStore } from "../store/ports.js";
import { cookieValue, isRecord } from "./http/request.js";

/**
 * `__Host-` (RFC 6265bis §4.1.3.2): the browser accepts the cookie only from a secure origin,
 * for this exact host (no Domain) and Path=/, so no sibling subdomain can set or shadow it.
 */
export const SESSION_COOKIE = "__Host-gatehouse_approve";
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** What a signed-in approver's session holds. */
export interface Session {
  readonly approverId: string;
  readonly operatorDomain: string;
  /** Sent back in `x-csrf-token` on every state-changing request. */
  readonly csrfToken: string;
}

export interface FoundSession {
  /** The cookie's value, to end the session. */
  readonly id: string;
  readonly session: Session;
}

export interface Sessions {
  /** Starts a session; returns the Set-Cookie header value. */
  start(approver: ApproverRecord): Promise<string>;
  /** The request's live session, undefined when none. */
  find(req: IncomingMessage): Promise<FoundSession | undefined>;
  /** Ends a session; returns the Set-Cookie header value that clears the cookie. */
  end(id: string): Promise<string>;
}

/**
 * Approval page sessions: a random id in an HttpOnly cookie, the session itself in the
 * store under the id's hash (a store dump yields no usable cookie), for a fixed lifetime.
 */
export function createSessions(store: ExpiringStore<unknown>, ttlMs: number): Sessions {
  const keyOf = (id: string) => `session:${sha256Hex(id)}`;
  const cookie = (value: string, maxAgeSeconds: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=Strict`;
  return {
    async start(approver) {
      const id = randomId();
      const session: Session = {
        approverId: approver.id,
        operatorDomain: approver.operatorDomain,
        csrfToken: randomId(),
      };
      await store.put(keyOf(id), session, ttlMs);
      return cookie(id, Math.floor(ttlMs / 1000));
    },
    async find(req) {
      const id = cookieValue(req, SESSION_COOKIE);
      if (id === undefined || !SESSION_ID.test(id)) return undefined;
      const session = await store.get(keyOf(id));
      return isSession(session) ? { id, session } : undefined;
    },
    async end(id) {
      await store.delete(keyOf(id));
      return cookie("", 0);
    },
  };
}

function isSession(value: unknown): value is Session {
  return (
    isRecord(value) &&
    typeof value.approverId === "string" &&
    typeof value.operatorDomain === "string" &&
    typeof value.csrfToken === "string"
  );
}
