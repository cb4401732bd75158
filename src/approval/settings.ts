import { endpointSettings } from "../config/endpoint.js";
import type { GatehouseConfig } from "../config/index.js";
import { boolean, httpsOrigin, integer } from "../config/parsers.js";
import { setting } from "../config/setting.js";
import type { ApprovalServerOptions } from "./options.js";

/**
 * The passkey approval page (src/approval): its own HTTPS listener, for humans' browsers
 * (which carry no client certificate), on the server certificate.
 */
export const approvalSection = {
  enabled: setting({
    env: "GATEHOUSE_APPROVAL_ENABLED",
    default: true,
    parse: boolean,
    doc: "serve the passkey approval page (its own HTTPS listener, server certificate, no client certificate)",
  }),
  ...endpointSettings("GATEHOUSE_APPROVAL", 7445, "where the approval page listens"),
  origin: setting({
    env: "GATEHOUSE_APPROVAL_ORIGIN",
    parse: httpsOrigin,
    shownDefault: "`https://localhost:<port>`",
    doc: "the https origin browsers use (e.g. behind a proxy); its host name is the WebAuthn RP ID",
  }),
  inviteTtlSeconds: setting({
    env: "GATEHOUSE_APPROVAL_INVITE_TTL",
    default: 86_400,
    parse: integer(60, 30 * 86_400),
    doc: "life of an approver invitation link",
  }),
  sessionTtlSeconds: setting({
    env: "GATEHOUSE_APPROVAL_SESSION_TTL",
    default: 900,
    parse: integer(60, 86_400),
    doc: "life of a signed-in approver's session",
  }),
};

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
