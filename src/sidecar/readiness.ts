import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../errors/index.js";
import type { HttpRequest, HttpResponse } from "./http-io.js";
import { type CacheableDocument, sendCacheable } from "./public-documents.js";

export interface ReadinessDeps {
  /** The JWK Set from Gatehouse: rejects (503, fail closed) when Gatehouse does not answer. */
  readonly readJwks: () => Promise<CacheableDocument>;
  /** False while this sidecar must get no new requests: draining, or its replica's store down. */
  readonly ready: () => boolean;
}

/**
 * `/readyz`: 200 with the JWK Set when Gatehouse answers and `ready()` holds, else 503.
 * `ready()` is asked again once Gatehouse has answered: a probe in flight when the drain
 * begins must not be told ready. Liveness (`/healthz`) is not asked here and stays 200.
 */
export function createReadiness({ readJwks, ready }: ReadinessDeps) {
  const refuseUnlessReady = (): void => {
    if (!ready()) throw new GatehouseError(Reason.UNAVAILABLE);
  };
  return async (req: HttpRequest, res: HttpResponse): Promise<void> => {
    refuseUnlessReady();
    const jwks = await readJwks();
    refuseUnlessReady();
    sendCacheable(req, res, jwks);
  };
}
