import { readFile } from "node:fs/promises";
import type { GatehouseConfig } from "../config/index.js";
import { createDomainVerifier, type DomainVerifier } from "./index.js";

/** The verifier the configuration describes; its extra CA file is read once, now. */
export async function domainVerifierFromConfig(
  config: GatehouseConfig["domains"],
): Promise<DomainVerifier> {
  const ca = config.caFile === undefined ? [] : [await readFile(config.caFile, "utf8")];
  return createDomainVerifier({
    dnsServers: config.dnsServers,
    timeoutMs: config.timeoutMs,
    httpsPort: config.httpsPort,
    allowPrivateAddresses: config.allowPrivateAddresses,
    ca,
  });
}
