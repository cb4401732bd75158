import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { GatehouseConfig } from "../config/index.js";
import type { TlsMaterial } from "../server/tls.js";

/** Where `gatehouse dev` keeps its generated PKI. */
export function devPkiDir(config: GatehouseConfig): string {
  return join(config.dataDir, "pki");
}

/**
 * The server's TLS material: configured files in `serve` mode, the dev PKI (generated on
 * first start, reused after) in `dev` mode unless files are configured.
 */
export async function loadTlsMaterial(config: GatehouseConfig): Promise<TlsMaterial> {
  const { certFile, keyFile, caFile, requireClientCert } = config.tls;
  if (certFile && keyFile && caFile) {
    const [cert, key, ca] = await Promise.all([certFile, keyFile, caFile].map((f) => readFile(f)));
    return { cert: cert as Buffer, key: key as Buffer, ca: ca as Buffer, requireClientCert };
  }
  // Loaded only here: certificate making (X.509, ASN.1) is for the dev PKI, not `serve`.
  const { ensureDevPki } = await import("../pki/dev-pki.js");
  const pki = await ensureDevPki(devPkiDir(config), { trustDomain: config.trustDomain });
  return {
    cert: Buffer.from(pki.server.certPem),
    key: Buffer.from(pki.server.keyPem),
    ca: Buffer.from(pki.ca.certPem),
    requireClientCert,
  };
}
