import type { Duration } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../../gen/gatehouse/v1/errors_pb.js";
import type { RequestGrantRequest } from "../../../gen/gatehouse/v1/grants_pb.js";
import { AuditEventType as Audited, agentEvent } from "../../audit/events.js";
import { randomId } from "../../crypto/random.js";
import { GatehouseError, invalidArgument } from "../../errors/index.js";
import { capabilitiesFromMessage } from "../../grants/convert.js";
import { requested } from "../../grants/lifecycle.js";
import { capabilityScopes } from "../../grants/model.js";
import type { Caller } from "../../identity/caller.js";
import type { GrantRecord } from "../../store/ports.js";
import { requireActiveAgent } from "../agents.js";
import type { GrantDeps } from "./index.js";

/**
 * An agent asks for capabilities on one audience of its policy. Refused while the agent
 * waits out a denial cooldown, and when it already has the maximum of pending requests
 * (counted atomically by the store, so concurrent requests cannot overshoot).
 */
export async function requestGrant(
  deps: GrantDeps,
  caller: Caller,
  request: RequestGrantRequest,
): Promise<GrantRecord> {
  const { store, clock, settings } = deps;
  const agent = await requireActiveAgent(store, caller.did ?? "");
  if (!agent.policy.audiences.includes(request.audience)) {
    throw new GatehouseError(Reason.AUDIENCE_NOT_ALLOWED, { field: "audience" });
  }
  const capabilities = capabilitiesFromMessage(request.capabilities, "capabilities");
  const durationMs = grantDuration(request.duration, settings);
  const now = clock.now();
  const cooldownUntil = await store.grants.cooldownUntil(agent.did);
  if (cooldownUntil !== undefined && cooldownUntil > now) {
    throw new GatehouseError(Reason.GRANT_COOLDOWN, { retryAfterMs: cooldownUntil - now });
  }
  const grant = requested(
    {
      id: randomId(),
      agent,
      audience: request.audience,
      capabilities,
      reason: request.reason,
      durationMs,
      pendingTtlMs: settings.pendingTtlMs,
    },
    now,
  );
  if ((await store.grants.create(grant, settings.maxPending, now)) === "pending_limit") {
    throw new GatehouseError(Reason.GRANT_PENDING_LIMIT);
  }
  await deps.audit.record(
    agentEvent(Audited.GRANT_REQUESTED, caller, agent, {
      grantId: grant.id,
      scopes: capabilityScopes(capabilities),
      audiences: [grant.audience],
    }),
  );
  return grant;
}

/** The requested duration: zero means the default; never negative, never over the maximum. */
function grantDuration(duration: Duration | undefined, settings: GrantDeps["settings"]): number {
  if (!duration || (duration.seconds === 0n && duration.nanos === 0)) {
    return settings.defaultDurationMs;
  }
  if (duration.seconds < 0n || duration.nanos < 0) {
    throw invalidArgument("duration", "must not be negative");
  }
  const ms = Number(duration.seconds) * 1000 + Math.ceil(duration.nanos / 1_000_000);
  if (ms > settings.maxDurationMs) {
    throw invalidArgument("duration", `must be at most ${settings.maxDurationMs / 1000}s`);
  }
  return ms;
}
