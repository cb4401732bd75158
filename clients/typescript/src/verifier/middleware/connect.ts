import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { ErrorDetailSchema, Reason } from "../../../../../gen/gatehouse/v1/errors_pb.js";
import { catalogEntry } from "../../../../../src/errors/catalog.js";
import { type HttpGuardOptions, verifyHttpRequest } from "../http.js";
import type { VerifiedToken } from "../outcome.js";
import type { Verifier } from "../verifier.js";

/** Where the interceptor puts the verified token: `context.values.get(gatehouseToken)`. */
export const gatehouseToken = createContextKey<VerifiedToken | undefined>(undefined, {
  description: "the token Gatehouse verified for this call",
});

/**
 * A Connect server interceptor (`connectNodeAdapter({ interceptors: [...] })`): every call
 * needs a token (and its DPoP proof for POST at the call's URL); a refusal is a ConnectError
 * with the catalog's code and a `gatehouse.v1.ErrorDetail` carrying the reason.
 */
export function gatehouseInterceptor(verifier: Verifier, options: HttpGuardOptions): Interceptor {
  return (next) => async (request) => {
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.header.forEach((value, name) => {
      headers[name] = value;
    });
    const outcome = await verifyHttpRequest(
      verifier,
      { method: request.requestMethod, url: `${url.pathname}${url.search}`, headers },
      options,
    );
    if (!outcome.allowed) {
      const entry = catalogEntry(outcome.reason);
      const code = outcome.reason === Reason.UNAUTHENTICATED ? Code.Unauthenticated : entry.code;
      const detail = create(ErrorDetailSchema, {
        reason: outcome.reason,
        description: entry.message,
        ...(outcome.dpopNonce !== undefined && { dpopNonce: outcome.dpopNonce }),
      });
      throw new ConnectError(entry.message, code, undefined, [
        { desc: ErrorDetailSchema, value: detail },
      ]);
    }
    request.contextValues.set(gatehouseToken, outcome.token);
    return next(request);
  };
}
