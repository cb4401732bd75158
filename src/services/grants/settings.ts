import type { GatehouseConfig } from "../../config/index.js";
import type { GrantSettings } from "./index.js";

/** The grant service's settings: the `grants` section, in milliseconds. */
export function grantSettings({ grants }: Pick<GatehouseConfig, "grants">): GrantSettings {
  return {
    maxPending: grants.maxPending,
    pendingTtlMs: grants.pendingTtlSeconds * 1000,
    defaultDurationMs: grants.defaultDurationSeconds * 1000,
    maxDurationMs: grants.maxDurationSeconds * 1000,
  };
}

/** How long an approver invitation link stays valid, in milliseconds. */
export function inviteTtlMs({ approval }: Pick<GatehouseConfig, "approval">): number {
  return approval.inviteTtlSeconds * 1000;
}
