import type { GatehouseConfig } from "../config/index.js";
import type { ApprovalServerOptions } from "./options.js";

/** The approval page's settings, from the sections it reads, in milliseconds. */
export function approvalSettings(
  config: Pick<GatehouseConfig, "approval" | "grants" | "transport">,
): Pick<
  ApprovalServerOptions,
  "origin" | "listen" | "transport" | "sessionTtlMs" | "denialBackoffBaseMs" | "denialBackoffMaxMs"
> {
  const { approval, grants } = config;
  return {
    ...(approval.origin === undefined ? {} : { origin: approval.origin }),
    listen: approval,
    transport: config.transport,
    sessionTtlMs: approval.sessionTtlSeconds * 1000,
    denialBackoffBaseMs: grants.denialBackoffBaseSeconds * 1000,
    denialBackoffMaxMs: grants.denialBackoffMaxSeconds * 1000,
  };
}
