import type { GatehouseConfig } from "../config/index.js";
import { integer } from "../config/parsers.js";
import { setting } from "../config/setting.js";
import type { AuditWriterOptions } from "./writer.js";

/**
 * The audit log's bounded record of denials (src/audit/denials.ts): Verify and Check denials
 * are folded per (kind, reason, agent, caller) into one entry per window.
 */
export const auditSection = {
  denialWindowSeconds: setting({
    env: "GATEHOUSE_AUDIT_DENIAL_WINDOW",
    default: 60,
    parse: integer(1, 3_600),
    doc: "Verify/Check denials are folded per key into one audit entry per window (1..3600)",
  }),
  denialMaxKeys: setting({
    env: "GATEHOUSE_AUDIT_DENIAL_MAX_KEYS",
    default: 256,
    parse: integer(1, 10_000),
    doc: "distinct denial keys per window and process; the rest fold into one overflow entry (1..10000)",
  }),
};

/** The audit writer's settings: the `audit` section, in milliseconds. */
export function auditWriterSettings({
  audit,
}: Pick<GatehouseConfig, "audit">): Pick<AuditWriterOptions, "denialWindowMs" | "denialMaxKeys"> {
  return { denialWindowMs: audit.denialWindowSeconds * 1000, denialMaxKeys: audit.denialMaxKeys };
}
