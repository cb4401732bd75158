import type { ApprovalContext, Call, SignedIn } from "../context.js";
import { json, type Reply } from "../http/response.js";

/**
 * `GET /approve/api/session`: who is signed in, and the CSRF token the page sends back on
 * every state change (readable only by same-origin script: no CORS is ever granted).
 */
export function sessionInfo() {
  return async (_call: Call, { approver, session }: SignedIn): Promise<Reply> =>
    json({
      approver: { id: approver.id, name: approver.displayName },
      operator: approver.operatorDomain,
      csrfToken: session.csrfToken,
    });
}

/** `POST /approve/api/logout`: ends the session and clears its cookie. */
export function logout(ctx: ApprovalContext) {
  return async (_call: Call, { sessionId }: SignedIn): Promise<Reply> =>
    json({}, await ctx.sessions.end(sessionId));
}
