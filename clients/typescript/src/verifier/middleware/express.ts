import {
  type HttpGuardOptions,
  httpRefusal,
  type IncomingLike,
  verifyHttpRequest,
} from "../http.js";
import type { VerifiedToken } from "../outcome.js";
import type { Verifier } from "../verifier.js";

/** The parts of an Express response the middleware uses (no dependency on express). */
export interface ExpressResponseLike {
  status(code: number): ExpressResponseLike;
  set(headers: Record<string, string>): ExpressResponseLike;
  json(body: unknown): unknown;
}

/** An Express request once allowed: the verified token is on `gatehouse`. */
export type GatehouseRequest<T extends IncomingLike = IncomingLike> = T & {
  gatehouse?: VerifiedToken;
};

/**
 * Express middleware: refuses a request whose token (and DPoP proof) does not verify, with the
 * catalog's status and challenge; sets `req.gatehouse` and calls `next()` otherwise.
 */
export function gatehouseExpress(verifier: Verifier, options: HttpGuardOptions) {
  return (
    req: GatehouseRequest,
    res: ExpressResponseLike,
    next: (error?: unknown) => void,
  ): void => {
    verifyHttpRequest(verifier, req, options).then((outcome) => {
      if (outcome.allowed) {
        req.gatehouse = outcome.token;
        next();
        return;
      }
      const refusal = httpRefusal(outcome, options);
      res.status(refusal.status).set(refusal.headers).json(refusal.body);
    }, next);
  };
}
