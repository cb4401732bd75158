/**
 * The verifier side, for Node services: offline verification against the JWKS (with the
 * server's own checks), DPoP, online Verify, and middleware for Express, Fastify and Connect.
 *
 * @packageDocumentation
 */

export { Reason } from "../errors.js";
export {
  type HttpGuardOptions,
  type HttpRefusal,
  httpRefusal,
  type IncomingLike,
  verifyHttpRequest,
} from "./http.js";
export {
  createJwksKeySet,
  type JwksDocument,
  type JwksKeySet,
  type JwksKeySetOptions,
  type JwksSource,
} from "./jwks.js";
export {
  type HttpJwksOptions,
  httpJwksSource,
  type JwksRpcClient,
  rpcJwksSource,
} from "./jwks-sources.js";
export { gatehouseInterceptor, gatehouseToken } from "./middleware/connect.js";
export {
  type ExpressResponseLike,
  type GatehouseRequest,
  gatehouseExpress,
} from "./middleware/express.js";
export { type FastifyReplyLike, gatehouseFastify } from "./middleware/fastify.js";
export { OFFLINE_STEPS, type OfflineDeps, type OfflineStep, verifyOffline } from "./offline.js";
export { type VerifyRpcClient, verifyOnline } from "./online.js";
export type { VerifiedToken, VerifyOutcome } from "./outcome.js";
export {
  createMemoryReplayStore,
  type MemoryReplayStoreOptions,
  type ReplayStore,
} from "./replay-store.js";
export {
  createVerifier,
  type Verifier,
  type VerifierOptions,
  type VerifyRequest,
} from "./verifier.js";
