import { X509Certificate } from "node:crypto";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, systemClock } from "../clock.js";
import { createCertificateAuthority } from "./certificate-authority.js";
import { issueCertificate } from "./issue-certificate.js";
import { pathExists, pemPairPaths, readPemPair, writePemPair } from "./pem-files.js";
import type { PemPair, StoredPemPair } from "./pem-pair.js";
import { type RoleCertificateSpec, roleCertificateSpec } from "./role-certificate.js";

/** The names in the URI SANs of the dev admin and verifier certificates. */
export const DEV_ADMIN_NAME = "dev-admin";
export const DEV_VERIFIER_NAME = "dev-verifier";

/** Long enough that a dev setup never expires under a developer's feet. */
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 730;

export interface EnsureDevPkiOptions {
  readonly trustDomain: string;
  readonly clock?: Clock;
}

/** The dev PKI: a CA and the three certificates a local setup needs. */
export interface DevPki {
  readonly ca: StoredPemPair;
  /** For `localhost`, `127.0.0.1` and `::1`. */
  readonly server: StoredPemPair;
  /** Client certificate with the admin URI for {@link DEV_ADMIN_NAME}. */
  readonly admin: StoredPemPair;
  /** Client certificate with the verifier URI for {@link DEV_VERIFIER_NAME}. */
  readonly verifier: StoredPemPair;
  /** Files this call created, in creation order; empty when all of them already existed. */
  readonly written: readonly string[];
}

/**
 * Loads the dev PKI from `dir`, creating whatever is missing. Existing files
 * are never regenerated, so a restart keeps the same CA and every client
 * certificate issued from it stays valid. The directory is made 0700 and
 * private keys 0600.
 */
export async function ensureDevPki(dir: string, options: EnsureDevPkiOptions): Promise<DevPki> {
  const clock = options.clock ?? systemClock;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only when it creates the directory; tighten an existing one too.
  await chmod(dir, 0o700);

  const written: string[] = [];
  const ca = await loadOrCreate(dir, "ca", written, () =>
    createCertificateAuthority({
      commonName: "Gatehouse dev CA",
      validityDays: CA_VALIDITY_DAYS,
      clock,
    }),
  );
  const leaf = async (name: string, spec: RoleCertificateSpec): Promise<StoredPemPair> => {
    const pair = await loadOrCreate(dir, name, written, () =>
      issueCertificate({ ca, ...spec, validityDays: LEAF_VALIDITY_DAYS, clock }),
    );
    assertIssuedFor(pair, ca, spec.uris, dir);
    return pair;
  };
  const { trustDomain } = options;
  const server = await leaf(
    "server",
    roleCertificateSpec(trustDomain, {
      role: "server",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1", "::1"],
    }),
  );
  const admin = await leaf(
    "admin",
    roleCertificateSpec(trustDomain, { role: "admin", name: DEV_ADMIN_NAME }),
  );
  const verifier = await leaf(
    "verifier",
    roleCertificateSpec(trustDomain, { role: "verifier", name: DEV_VERIFIER_NAME }),
  );
  return { ca, server, admin, verifier, written };
}

/**
 * Loads the dev CA that `ensureDevPki` created in `dir`, to issue more
 * certificates from it; undefined when `dir` holds no CA yet.
 */
export async function loadDevCertificateAuthority(dir: string): Promise<StoredPemPair | undefined> {
  const { certPath, keyPath } = pemPairPaths(join(dir, "ca"));
  const [hasCert, hasKey] = await Promise.all([pathExists(certPath), pathExists(keyPath)]);
  return hasCert || hasKey ? readPemPair(certPath, keyPath) : undefined;
}

/**
 * Loads `<dir>/<name>.pem` and its key, or creates and writes both. A pair
 * with only one file present is refused rather than repaired: replacing the
 * survivor could break whatever already uses it.
 */
async function loadOrCreate(
  dir: string,
  name: string,
  written: string[],
  create: () => Promise<PemPair>,
): Promise<StoredPemPair> {
  const { certPath, keyPath } = pemPairPaths(join(dir, name));
  const [hasCert, hasKey] = await Promise.all([pathExists(certPath), pathExists(keyPath)]);
  if (hasCert && hasKey) return readPemPair(certPath, keyPath);
  if (hasCert || hasKey) {
    throw new Error(
      `${hasCert ? keyPath : certPath} is missing but ${hasCert ? certPath : keyPath} exists; ` +
        `delete ${dir} to regenerate the dev PKI`,
    );
  }
  const pair = await writePemPair(certPath, keyPath, await create());
  written.push(keyPath, certPath);
  return pair;
}

/**
 * Refuses a loaded certificate that no longer fits: signed by a different CA
 * (the CA was recreated) or naming other URIs (the trust domain changed).
 * Either way the server would reject it later with a far vaguer error.
 */
function assertIssuedFor(
  pair: StoredPemPair,
  ca: StoredPemPair,
  uris: readonly string[],
  dir: string,
): void {
  const cert = new X509Certificate(pair.certPem);
  const caCert = new X509Certificate(ca.certPem);
  const hint = `delete ${dir} to regenerate the dev PKI`;
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
    throw new Error(`${pair.certPath} was not issued by ${ca.certPath}; ${hint}`);
  }
  // Node lists SANs as "URI:<uri>, DNS:<name>, …"; SPIFFE IDs and DIDs contain no ", ".
  const sans = cert.subjectAltName?.split(", ") ?? [];
  const missing = uris.filter((uri) => !sans.includes(`URI:${uri}`));
  if (missing.length > 0) {
    throw new Error(`${pair.certPath} does not name ${missing.join(", ")}; ${hint}`);
  }
}
