import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  ChallengeKind,
  type ChallengeResponse,
  type ReasoningChallenge,
  type SubmitRequestSchema,
  type TokenResponse,
} from "../../../../gen/gatehouse/v1/gate_pb.js";
import { type Clock, systemClock } from "../../../../src/clock.js";
import { GatehouseClientError, Reason } from "../errors.js";
import { jwtBearerAssertion } from "./assertion.js";
import { autonomyAttestation } from "./attestation.js";
import { signChallenge } from "./challenge.js";
import { solveHashcash, solveIteratedHash } from "./compute.js";
import type { GateClient } from "./gate.js";
import type { AgentKey } from "./key.js";
import { type DpopBinding, requestToken } from "./token-request.js";

type Answer = NonNullable<MessageInitShape<typeof SubmitRequestSchema>["answer"]>;

/** What the agent reports about itself in an autonomy attestation (signed by the SDK). */
export interface AutonomyReport {
  readonly operationSeconds: number;
  readonly autonomousActions: number;
  /** base64url SHA-256 of the agent's decision chain (43 characters). */
  readonly decisionChain: string;
}

export interface ChallengeLoginOptions {
  readonly key: AgentKey;
  readonly did: string;
  readonly scopes: readonly string[];
  readonly audience: string;
  /** The kind to ask for (default signature). The SDK solves by the kind the server stored. */
  readonly kind?: ChallengeKind;
  /** Solves a reasoning task: the answer in the task's `answer_format`. */
  readonly solveReasoning?: (task: ReasoningChallenge) => string | Promise<string>;
  /** Called when the policy requires an autonomy attestation (SubmitRequirements). */
  readonly autonomy?: () => AutonomyReport | Promise<AutonomyReport>;
  /** Bind the token to the key (DPoP). */
  readonly dpop?: DpopBinding;
  readonly clock?: Clock;
}

/** Challenge → Submit → Token (GateService), solving the challenge by its stored kind. */
export async function loginWithChallenge(
  gate: GateClient,
  options: ChallengeLoginOptions,
): Promise<TokenResponse> {
  const clock = options.clock ?? systemClock;
  const { did, scopes, audience } = options;
  const kind = options.kind ?? ChallengeKind.SIGNATURE;
  const challenge = await gate.challenge({ did, kind, scopes: [...scopes], audience });
  // Monotonic (not the injectable clock): the server compares it with what it measured.
  const started = performance.now();
  const answer = await solve(challenge, options);
  const runtimeMs = Math.floor(performance.now() - started);
  const autonomy = await attestationFor(challenge, options, clock);
  const { passToken: pass } = await gate.submit({
    challengeId: challenge.challengeId,
    answer,
    runtimeMs,
    ...(autonomy !== undefined && { autonomyAttestation: autonomy }),
  });
  return requestToken(gate, { case: "passToken", value: pass }, options.dpop);
}

async function solve(
  challenge: ChallengeResponse,
  options: ChallengeLoginOptions,
): Promise<Answer> {
  const { body } = challenge;
  switch (body.case) {
    case "signature": {
      if (!challenge.expiresAt) throw localError("the signature challenge has no deadline");
      const signature = signChallenge(options.key, body.value, {
        challengeId: challenge.challengeId,
        did: options.did,
        scopes: options.scopes,
        audience: options.audience,
        expiresAtMs: timestampMs(challenge.expiresAt),
      });
      return { case: "signature", value: { signature } };
    }
    case "iteratedHash": {
      const digest = solveIteratedHash(body.value.seed, body.value.iterations);
      return { case: "iteratedHash", value: { digest } };
    }
    case "hashcash": {
      const nonce = solveHashcash(body.value.prefix, body.value.difficultyBits);
      return { case: "hashcash", value: { nonce } };
    }
    case "reasoning": {
      if (!options.solveReasoning) throw localError("a reasoning challenge needs solveReasoning");
      return { case: "reasoning", value: { answer: await options.solveReasoning(body.value) } };
    }
    default:
      throw localError("the challenge has a kind this SDK does not know");
  }
}

async function attestationFor(
  challenge: ChallengeResponse,
  options: ChallengeLoginOptions,
  clock: Clock,
): Promise<string | undefined> {
  if (!challenge.requirements?.autonomyAttestation) return undefined;
  if (!options.autonomy) throw localError("the policy requires an autonomy attestation");
  return autonomyAttestation(options.key, {
    ...(await options.autonomy()),
    did: options.did,
    challengeId: challenge.challengeId,
    iat: Math.floor(clock.now() / 1000),
  });
}

export interface AssertionGrantOptions {
  readonly key: AgentKey;
  readonly did: string;
  /** The Gatehouse issuer: the assertion's `aud` (RFC 7523 §3). */
  readonly issuer: string;
  readonly scopes: readonly string[];
  readonly audience: string;
  /** The assertion's lifetime (default 60 s). */
  readonly lifetimeSeconds?: number;
  readonly dpop?: DpopBinding;
  readonly clock?: Clock;
}

/** The JWT-bearer grant (RFC 7523 §2.1): a token for a fresh signed assertion, no challenge. */
export async function tokenByAssertion(
  gate: Pick<GateClient, "token">,
  options: AssertionGrantOptions,
): Promise<TokenResponse> {
  const clock = options.clock ?? systemClock;
  const assertion = await jwtBearerAssertion(options.key, {
    did: options.did,
    audience: options.issuer,
    lifetimeSeconds: options.lifetimeSeconds ?? 60,
    issuedAt: Math.floor(clock.now() / 1000),
  });
  const value = { assertion, scopes: [...options.scopes], audience: options.audience };
  return requestToken(gate, { case: "assertion", value }, options.dpop);
}

export interface ExchangeOptions {
  /** The token being narrowed or delegated. */
  readonly subjectToken: string;
  readonly scopes?: readonly string[];
  readonly audience?: string;
  /** Delegation (RFC 8693 §4.1 `act`): the agent the new token is for. */
  readonly delegateDid?: string;
  readonly ttlSeconds?: number;
  /** A bound subject token needs the holder's proof on the token request. */
  readonly dpop?: DpopBinding;
}

/** Token exchange (RFC 8693 §2.1): scopes only shrink, lifetime only shortens. */
export function exchangeToken(
  gate: Pick<GateClient, "token">,
  options: ExchangeOptions,
): Promise<TokenResponse> {
  const value = {
    subjectToken: options.subjectToken,
    scopes: [...(options.scopes ?? [])],
    ...(options.audience !== undefined && { audience: options.audience }),
    ...(options.delegateDid !== undefined && { delegateDid: options.delegateDid }),
    ...(options.ttlSeconds !== undefined && { ttlSeconds: options.ttlSeconds }),
  };
  return requestToken(gate, { case: "exchange", value }, options.dpop);
}

/** A failure of the SDK's own checks, before anything was sent. */
function localError(message: string): GatehouseClientError {
  return new GatehouseClientError(message, 0, Reason.UNSPECIFIED);
}
