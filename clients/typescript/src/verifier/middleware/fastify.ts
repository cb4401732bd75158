import {
  type HttpGuardOptions,
  httpRefusal,
  type IncomingLike,
  verifyHttpRequest,
} from "../http.js";
import type { VerifiedToken } from "../outcome.js";
import type { Verifier } from "../verifier.js";

/** The parts of a Fastify reply the hook uses (no dependency on fastify). */
export interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: unknown): unknown;
}

/**
 * A Fastify `preHandler` (or `onRequest`) hook: refuses as the Express middleware does;
 * allowed requests get `request.gatehouse`.
 */
export function gatehouseFastify(verifier: Verifier, options: HttpGuardOptions) {
  return async (
    request: IncomingLike & { gatehouse?: VerifiedToken },
    reply: FastifyReplyLike,
  ): Promise<void> => {
    const outcome = await verifyHttpRequest(verifier, request, options);
    if (outcome.allowed) {
      request.gatehouse = outcome.token;
      return;
    }
    const refusal = httpRefusal(outcome, options);
    await reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
  };
}
