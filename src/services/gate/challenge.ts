import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import {
  ChallengeKind,
  type ChallengeRequest,
  type ChallengeResponseSchema,
} from "../../../gen/gatehouse/v1/gate_pb.js";
import { AuditEventType, agentEvent } from "../../audit/events.js";
import type { ChallengeRecord } from "../../challenges/types.js";
import { randomId, sha256Hex } from "../../crypto/random.js";
import { GatehouseError, invalidArgument } from "../../errors/index.js";
import { authorizeScopes } from "../../grants/allowance.js";
import { cachedStanding, requireActiveAgent } from "../agents.js";
import type { CallContext } from "../types.js";
import { EXPIRED_RECORD_GRACE_MS, type GateDeps } from "./deps.js";

/**
 * Issues a one-time challenge bound to the caller's certificate, the DID, the scopes, the
 * audience and a deadline. It is stored under the hash of its id, so a store dump does
 * not reveal live challenge ids. The rate limits ran before (the dispatcher's `challenge`
 * limit, src/server/policy.ts); the admission check comes first here, before any registry
 * read, so a flood is refused at the cost of rate-limit hits only.
 */
export async function issueChallenge(
  deps: GateDeps,
  request: ChallengeRequest,
  call: CallContext,
): Promise<MessageInitShape<typeof ChallengeResponseSchema>> {
  requireBindingFields(request); // the contract's rules first, as the validator's are
  await deps.abuse.challenge(request, call);
  const { caller } = call;
  if (caller.did !== undefined && caller.did !== request.did) {
    throw new GatehouseError(Reason.DID_MISMATCH);
  }
  // Without a certificate, only a proof by the DID's key can authenticate the caller.
  if (caller.role === "claimant" && request.kind !== ChallengeKind.DID_PROOF) {
    throw new GatehouseError(Reason.PERMISSION_DENIED, {
      description: "a caller without a client certificate may ask only for a DID proof",
    });
  }
  const plugin = deps.kinds.get(request.kind);
  if (!plugin) throw new GatehouseError(Reason.CHALLENGE_KIND_UNSUPPORTED, { field: "kind" });
  const now = deps.clock.now();
  // Through Verify's bus-invalidated look-ups: a challenge is no credential. Submit reads the
  // agent fresh, and Token the agent, its operator and its key's revocation, before issuing.
  const agent = await requireActiveAgent(cachedStanding(deps.verify, deps.store, now), request.did);
  const ttlMs = deps.settings.challengeTtlSeconds * 1000;
  // Anyone may ask for a DID proof for any agent: their number per DID is bounded.
  if (request.kind === ChallengeKind.DID_PROOF) {
    await deps.abuse.liveDidProof(agent.did, call, ttlMs);
  }
  const scopes = [...new Set(request.scopes)].sort();
  // A DID proof names its scopes and audience when it is redeemed (token/flows/did-proof.ts).
  if (request.kind !== ChallengeKind.DID_PROOF) {
    await authorizeScopes(deps.store.grants, agent, scopes, request.audience, now);
  }

  const challengeId = randomId();
  const base = {
    kind: plugin.kind,
    did: agent.did,
    caller: caller.fingerprint,
    scopes,
    audience: request.audience,
    issuedAt: now,
  };
  const { state, body, expiresAt } = await plugin.issue({
    challengeId,
    issuer: deps.settings.issuer,
    defaultTtlMs: ttlMs,
    preferences: { reasoningFamily: request.reasoningFamily },
    record: base,
  });
  const record: ChallengeRecord = { ...base, expiresAt, state };
  const storeTtlMs = expiresAt - now + EXPIRED_RECORD_GRACE_MS;
  // Stored and audited in one round trip; the challenge is returned only once both are done.
  await Promise.all([
    deps.store.challenges.put(sha256Hex(challengeId), record, storeTtlMs),
    deps.audit.record(
      agentEvent(AuditEventType.CHALLENGE_ISSUED, caller, agent, {
        challengeKind: plugin.kind,
        scopes,
        audiences: [request.audience],
      }),
    ),
  ]);
  const autonomy = agent.policy.autonomy;
  return {
    challengeId,
    kind: plugin.kind,
    expiresAt: timestampFromMs(expiresAt),
    body,
    requirements: {
      autonomyAttestation: autonomy?.requireAttestation ?? false,
      platformAttestation: autonomy?.requirePlatformAttestation ?? false,
    },
  };
}

/**
 * Scopes and audience are required (the contract's rule, kind by kind): every kind binds
 * them, except a DID proof, which must leave them empty (they are named at Token).
 */
function requireBindingFields(request: ChallengeRequest): void {
  if (request.kind === ChallengeKind.DID_PROOF) {
    if (request.scopes.length > 0) throw invalidArgument("scopes", "must be empty");
    if (request.audience !== "") throw invalidArgument("audience", "must be empty");
    return;
  }
  if (request.scopes.length === 0) throw invalidArgument("scopes", "is required");
  const empty = request.scopes.indexOf("");
  if (empty >= 0) throw invalidArgument(`scopes[${empty}]`, "is required");
  if (request.audience === "") throw invalidArgument("audience", "is required");
}
