import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import type { PemPair, StoredPemPair } from "./pem-pair.js";

/** The file names of a pair: `<prefix>.pem` and `<prefix>-key.pem`. */
export function pemPairPaths(prefix: string): { certPath: string; keyPath: string } {
  return { certPath: `${prefix}.pem`, keyPath: `${prefix}-key.pem` };
}

/** Reads a certificate and its key, refusing a key that does not belong to the certificate. */
export async function readPemPair(certPath: string, keyPath: string): Promise<StoredPemPair> {
  const [certPem, keyPem] = await Promise.all([
    readFile(certPath, "utf8"),
    readFile(keyPath, "utf8"),
  ]);
  if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))) {
    throw new Error(`${keyPath} is not the private key of ${certPath}`);
  }
  return { certPath, keyPath, certPem, keyPem };
}

/**
 * Writes a pair: the key readable by its owner only (0600), the certificate
 * world-readable (0644). Never overwrites (`wx`), so an existing key, which
 * may already be deployed somewhere, is never silently replaced.
 */
export async function writePemPair(
  certPath: string,
  keyPath: string,
  pair: PemPair,
): Promise<StoredPemPair> {
  await writeFile(keyPath, pair.keyPem, { mode: 0o600, flag: "wx" });
  await writeFile(certPath, pair.certPem, { mode: 0o644, flag: "wx" });
  return { certPath, keyPath, ...pair };
}

/** Whether a path exists; any error other than "not found" is rethrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
