import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { Money } from "../../../gen/gatehouse/v1/resources_pb.js";
import {
  type VerifyRequest,
  VerifyRequestSchema,
  VerifyResponseSchema,
  VerifyService,
} from "../../../gen/gatehouse/v1/verify_pb.js";
import { AuditEventType, actorOf } from "../../audit/events.js";
import type { Audit } from "../../audit/writer.js";
import type { KeyRing } from "../../crypto/key-ring.js";
import { invalidArgument } from "../../errors/index.js";
import { runVerifyPipeline } from "../../verify/pipeline.js";
import type { VerifiedClaims, VerifyAmount, VerifyDeps, VerifyInput } from "../../verify/types.js";
import { PreEncoded } from "../pre-encoded.js";
import { bindService, type RequestDecoders, type ServiceBinding } from "../types.js";
import { issuerMetadata } from "./issuer-metadata.js";
import { decodeVerifyRequest } from "./request.js";

export interface VerifyServiceDeps extends VerifyDeps {
  readonly keys: KeyRing;
  /** How long clients may cache the JWKS. */
  readonly jwksMaxAgeSeconds: number;
  /** Where the HTTP sidecar is reached (`sidecar.public_url`); the advertised URLs are under it. */
  readonly publicUrl: string;
  /**
   * Denials are folded into the audit log (`deny`): Verify never waits for the audit write,
   * and a flood of denials costs a bounded number of entries per window (src/audit/denials.ts).
   */
  readonly audit: Audit;
  /** Told of every decision's reason (UNSPECIFIED when allowed): the metrics hook. */
  readonly onDecision?: (reason: Reason) => void;
}

export function createVerifyService(deps: VerifyServiceDeps): ServiceBinding {
  const allowedResponse = allowedResponses();
  return bindService(
    VerifyService,
    {
      async verify(request, { caller }) {
        const verdict = runVerifyPipeline(verifyInput(request), deps);
        // A cached token is decided synchronously: no await (and no microtask) then.
        const decision = verdict instanceof Promise ? await verdict : verdict;
        // RFC 9449 §9: with server nonces on, every answer carries the nonce to use next
        // (stateless, so the one a NONCE_REQUIRED denial asks for is this one).
        const dpopNonce = deps.dpop.nonce();
        deps.onDecision?.(decision.allowed ? Reason.UNSPECIFIED : decision.reason);
        if (decision.allowed) {
          return allowedResponse(decision.claims, decision.cacheTtlSeconds, dpopNonce);
        }
        const nonce = dpopNonce === undefined ? {} : { dpopNonce };
        const identity = decision.claims
          ? {
              agentDid: decision.claims.sub,
              operatorDomain: decision.claims.operator,
              tokenId: decision.claims.jti,
            }
          : {};
        deps.audit.deny({
          denied: AuditEventType.VERIFY_DENIED,
          ...actorOf(caller),
          reason: decision.reason,
          subjectDid: identity.agentDid ?? "",
          operatorDomain: identity.operatorDomain ?? "",
        });
        return { allowed: false, reason: decision.reason, ...identity, ...nonce };
      },

      getIssuerMetadata: () =>
        issuerMetadata(deps.settings.issuer, deps.publicUrl, deps.keys, deps.jwksMaxAgeSeconds),

      async getJwks() {
        const keys = await deps.keys.published();
        return {
          keys: keys.map(({ jwk }) => ({
            kty: jwk.kty ?? "",
            crv: jwk.crv ?? "",
            x: jwk.x ?? "",
            y: jwk.y ?? "",
            kid: jwk.kid ?? "",
            alg: jwk.alg ?? "",
            use: "sig",
          })),
          cacheMaxAgeSeconds: deps.jwksMaxAgeSeconds,
        };
      },
    },
    VERIFY_DECODERS,
  );
}

/** Verify's request decoded by hand (request.ts): the same message as `fromBinary`'s. */
export const VERIFY_DECODERS: RequestDecoders = new Map([
  [VerifyRequestSchema.typeName, decodeVerifyRequest],
]);

/**
 * What the pipeline verifies: the request itself (its fields are VerifyInput's, and it
 * carries no `provenJkt`, which only Gatehouse sets), or with its amount checked and copied.
 */
function verifyInput(request: VerifyRequest): VerifyInput {
  if (!request.amount) return request;
  return {
    token: request.token,
    audience: request.audience,
    requiredScopes: request.requiredScopes,
    dpopProof: request.dpopProof,
    httpMethod: request.httpMethod,
    httpUrl: request.httpUrl,
    amount: amountFromMessage(request.amount),
  };
}

interface AllowedResponse {
  readonly cacheTtlSeconds: number;
  readonly dpopNonce: string | undefined;
  readonly response: PreEncoded<typeof VerifyResponseSchema>;
}

/**
 * An allowed answer is a pure function of the verified claims, the decision's cache TTL and
 * the DPoP nonce. The claims object is shared by every hit on one verified-token cache entry
 * (src/verify/cache.ts) and never changes, so the answer is built and encoded once per
 * claims, TTL and nonce (PreEncoded), and handed out again while they hold. Every step of the
 * pipeline still ran for this request: only the answer's construction is reused. One memo per
 * service instance, dropped with the claims it was built for.
 */
function allowedResponses() {
  const built = new WeakMap<VerifiedClaims, AllowedResponse>();
  return (
    claims: VerifiedClaims,
    cacheTtlSeconds: number,
    dpopNonce: string | undefined,
  ): PreEncoded<typeof VerifyResponseSchema> => {
    const known = built.get(claims);
    if (known?.cacheTtlSeconds === cacheTtlSeconds && known.dpopNonce === dpopNonce) {
      return known.response;
    }
    const message = create(VerifyResponseSchema, {
      allowed: true,
      agentDid: claims.sub,
      operatorDomain: claims.operator,
      tokenId: claims.jti,
      ...(claims.actors?.[0] !== undefined && { actorDid: claims.actors[0] }),
      ...(dpopNonce !== undefined && { dpopNonce }),
      scopes: [...claims.scopes],
      expiresAt: timestampFromMs(claims.exp * 1000),
      cacheTtlSeconds,
    });
    const response = new PreEncoded(VerifyResponseSchema, message);
    built.set(claims, { cacheTtlSeconds, dpopNonce, response });
    return response;
  };
}

/** The request's amount; the currency's format is the contract's rule, checked before. */
function amountFromMessage(amount: Money): VerifyAmount {
  if (amount.currency === "") throw invalidArgument("amount.currency", "is required");
  if (amount.minorUnits < 0n) throw invalidArgument("amount.minor_units", "must not be negative");
  return { currency: amount.currency, minorUnits: amount.minorUnits };
}
