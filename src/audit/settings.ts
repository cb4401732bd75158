import type { GatehouseConfig } from "../config/index.js";
import type { AuditWriterOptions } from "./writer.js";

/** The audit writer's settings: the `audit` section, in milliseconds. */
export function auditWriterSettings({
  audit,
}: Pick<GatehouseConfig, "audit">): Pick<AuditWriterOptions, "denialWindowMs" | "denialMaxKeys"> {
  return { denialWindowMs: audit.denialWindowSeconds * 1000, denialMaxKeys: audit.denialMaxKeys };
}
