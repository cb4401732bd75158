import type { GatehouseConfig } from "../../config/index.js";
import { integer } from "../../config/parsers.js";
import { setting } from "../../config/setting.js";
import type { GrantSettings } from "./index.js";

/** Capability grants approved by humans (src/services/grants). */
export const grantsSection = {
  maxPending: setting({
    env: "GATEHOUSE_GRANTS_MAX_PENDING",
    default: 5,
    parse: integer(1, 100),
    doc: "pending grant requests one agent may have (1..100)",
  }),
  pendingTtlSeconds: setting({
    default: 86_400,
    parse: integer(60, 30 * 86_400),
    doc: "a request nobody decides lapses (EXPIRED) after this",
  }),
  defaultDurationSeconds: setting({
    default: 3_600,
    parse: integer(60, 365 * 86_400),
    doc: "how long an approved grant lasts when the request names no duration",
  }),
  maxDurationSeconds: setting({
    default: 30 * 86_400,
    parse: integer(60, 365 * 86_400),
    doc: "the longest an approved grant may last",
  }),
  denialBackoffBaseSeconds: setting({
    default: 60,
    parse: integer(0, 86_400),
    doc: "after a denial the agent waits this long, doubling with each consecutive denial",
  }),
  denialBackoffMaxSeconds: setting({
    default: 86_400,
    parse: integer(0, 30 * 86_400),
    doc: "the longest cooldown after denials",
  }),
};

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
