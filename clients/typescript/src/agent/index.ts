/**
 * The agent side of Gatehouse: keys, DIDs, registration, login, tokens, DPoP and `fetch`.
 *
 * @packageDocumentation
 */
export { type Agent, type AgentOptions, createAgent } from "./agent.js";
export { type JwtBearerAssertionInput, jwtBearerAssertion } from "./assertion.js";
export { type AutonomyAttestationInput, autonomyAttestation } from "./attestation.js";
export { type ExpectedChallenge, signChallenge } from "./challenge.js";
export { meetsHashcash, solveHashcash, solveIteratedHash } from "./compute.js";
export { agentDid, agentDidKey } from "./did.js";
export { type DpopProofInput, dpopProof, htuOf } from "./dpop.js";
export { type AgentFetchOptions, createAgentFetch, type FetchLike } from "./fetch.js";
export { type GateClient, issuedToken } from "./gate.js";
export {
  type AgentKey,
  agentKeyFromPem,
  agentKeyFromPrivateKey,
  agentKeyToPem,
  generateAgentKey,
} from "./key.js";
export {
  type AgentKeyStore,
  fileKeyStore,
  loadOrCreateAgentKey,
  memoryKeyStore,
} from "./key-store.js";
export {
  type AssertionGrantOptions,
  type AutonomyReport,
  type ChallengeLoginOptions,
  type ExchangeOptions,
  exchangeToken,
  loginWithChallenge,
  tokenByAssertion,
} from "./login.js";
export {
  proofOfPossession,
  type RegisterAgentInit,
  registrationRequest,
  rotationSignatures,
} from "./registration.js";
export {
  backoffDelay,
  isRetryable,
  parseRetryAfter,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
  withRetry,
} from "./retry.js";
export {
  createTokenCache,
  type IssuedToken,
  type TokenCache,
  type TokenCacheOptions,
} from "./token-cache.js";
export { type DpopBinding, requestToken, type TokenGrant } from "./token-request.js";
