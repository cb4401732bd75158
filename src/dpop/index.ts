export { accessTokenHash } from "./ath.js";
export { normalizeClaimedHtu, normalizeHtu } from "./htu.js";
export { createNonceSource, type NonceSource } from "./nonce.js";
export { DPOP_ALGS, DPOP_TYP, type ParsedProof, parseProof } from "./proof.js";
export {
  checkTokenRequestProof,
  OAUTH_TOKEN_PATH,
  requireRegisteredKey,
  TOKEN_PATH,
} from "./token-binding.js";
export {
  createDpopVerifier,
  type DpopResult,
  type DpopSettings,
  type DpopVerifier,
  type DpopVerifierDeps,
  type ProofRequest,
} from "./verifier.js";
