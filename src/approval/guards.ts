import type { IncomingMessage } from "node:http";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { constantTimeEqual } from "../crypto/constant-time.js";
import { GatehouseError } from "../errors/index.js";
import { sourceAddress } from "../identity/source-address.js";
import type { RegistryStore } from "../store/ports.js";
import type { ApprovalContext, Call, SignedIn } from "./context.js";
import type { Reply } from "./http/response.js";
import type { RouteShape } from "./http/router.js";

/**
 * Who may call a route, declared once per route in the table (routes.ts) and enforced here
 * before its handler runs:
 * - "public": anyone (the static page and its assets, which hold nothing secret);
 * - "same-origin": a POST whose `Origin` is exactly the page's (sign-in and enrollment),
 *   at most PRE_SESSION_LIMIT per source address and minute: each one stores ceremony state
 *   for someone who has not proven anything yet;
 * - "session": a signed-in approver (reads);
 * - "session-csrf": a signed-in approver, exact `Origin` and the session's CSRF token
 *   (every state change after sign-in).
 */
export type ApprovalRoute = RouteShape &
  (
    | {
        readonly access: "public" | "same-origin";
        handle(call: Call): Promise<Reply>;
      }
    | {
        readonly access: "session" | "session-csrf";
        handle(call: Call, signedIn: SignedIn): Promise<Reply>;
      }
  );

/** Enforces the route's access rule, then runs its handler. Checks run in the order listed. */
export async function runRoute(
  route: ApprovalRoute,
  call: Call,
  ctx: ApprovalContext,
): Promise<Reply> {
  if (route.access === "public") return route.handle(call);
  if (route.access === "same-origin") {
    requireOrigin(call.req, ctx.rp.origin);
    await requireWithinRate(call.req, ctx);
    return route.handle(call);
  }
  if (route.access === "session-csrf") requireOrigin(call.req, ctx.rp.origin);
  const signedIn = await requireSession(call.req, ctx);
  if (route.access === "session-csrf") requireCsrfToken(call.req, signedIn.session.csrfToken);
  return route.handle(call, signedIn);
}

/** Generous for a human (a sign-in is two calls), tight for a script filling the store. */
const PRE_SESSION_LIMIT = 60;
const PRE_SESSION_WINDOW_MS = 60_000;

async function requireWithinRate(req: IncomingMessage, ctx: ApprovalContext): Promise<void> {
  const address = sourceAddress(req.socket.remoteAddress ?? "");
  const hit = await ctx.store.rateLimits.hit(
    `approval:address:${address}`,
    PRE_SESSION_LIMIT,
    PRE_SESSION_WINDOW_MS,
  );
  if (!hit.allowed) {
    throw new GatehouseError(Reason.RATE_LIMITED, { retryAfterMs: hit.retryAfterMs });
  }
}

/** Browsers send `Origin` on every POST; another site's page cannot forge it. */
function requireOrigin(req: IncomingMessage, origin: string): void {
  const sent = req.headers.origin;
  if (typeof sent !== "string" || !constantTimeEqual(sent, origin)) {
    throw new GatehouseError(Reason.PERMISSION_DENIED, { description: "origin not allowed" });
  }
}

/** The session's CSRF token, which only same-origin script can read (GET /api/session). */
function requireCsrfToken(req: IncomingMessage, token: string): void {
  const sent = req.headers["x-csrf-token"];
  if (typeof sent !== "string" || !constantTimeEqual(sent, token)) {
    throw new GatehouseError(Reason.PERMISSION_DENIED, {
      description: "CSRF token missing or invalid",
    });
  }
}

/** A live session of an approver who still exists, for an operator still active. */
async function requireSession(req: IncomingMessage, ctx: ApprovalContext): Promise<SignedIn> {
  const found = await ctx.sessions.find(req);
  const approver = found && (await ctx.store.approvers.get(found.session.approverId));
  if (!found || !approver || approver.operatorDomain !== found.session.operatorDomain) {
    throw new GatehouseError(Reason.UNAUTHENTICATED, {
      description: "sign in with a passkey first",
    });
  }
  await requireActiveOperator(ctx.store.registry, approver.operatorDomain);
  return { sessionId: found.id, session: found.session, approver };
}

/** Approvers of a suspended or revoked operator decide nothing. */
export async function requireActiveOperator(
  registry: RegistryStore,
  operatorDomain: string,
): Promise<void> {
  const operator = await registry.getOperator(operatorDomain);
  if (!operator) throw new GatehouseError(Reason.OPERATOR_NOT_FOUND);
  if (operator.status === "revoked") throw new GatehouseError(Reason.OPERATOR_REVOKED);
  if (operator.status !== "active") throw new GatehouseError(Reason.OPERATOR_SUSPENDED);
}
