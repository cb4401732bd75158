import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCertificateAuthority } from "../../../src/pki/certificate-authority.js";
import {
  DEV_ADMIN_NAME,
  DEV_VERIFIER_NAME,
  ensureDevPki,
  loadDevCertificateAuthority,
} from "../../../src/pki/dev-pki.js";
import { connectMtls, startMtlsServer } from "./mtls.js";

const TD = "gatehouse.test";

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe("ensureDevPki", () => {
  let root: string;
  let dir: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "gatehouse-pki-"));
    dir = join(root, "data", "pki");
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  it("creates the CA and the server, admin and verifier certificates", async () => {
    const pki = await ensureDevPki(dir, { trustDomain: TD });

    expect(pki.written.map((path) => path.slice(dir.length + 1))).toEqual([
      "ca-key.pem",
      "ca.pem",
      "server-key.pem",
      "server.pem",
      "admin-key.pem",
      "admin.pem",
      "verifier-key.pem",
      "verifier.pem",
    ]);
    expect(pki.ca.certPath).toBe(join(dir, "ca.pem"));
    expect(new X509Certificate(pki.ca.certPem).ca).toBe(true);
    expect(new X509Certificate(pki.admin.certPem).subjectAltName).toBe(
      `URI:spiffe://${TD}/admin/${DEV_ADMIN_NAME}`,
    );
    expect(new X509Certificate(pki.verifier.certPem).subjectAltName).toBe(
      `URI:spiffe://${TD}/verifier/${DEV_VERIFIER_NAME}`,
    );
  });

  it("writes private keys 0600 and the directory 0700", async () => {
    const pki = await ensureDevPki(dir, { trustDomain: TD });

    expect(await modeOf(dir)).toBe(0o700);
    for (const pair of [pki.ca, pki.server, pki.admin, pki.verifier]) {
      expect(await modeOf(pair.keyPath)).toBe(0o600);
    }
  });

  it("loads the same PKI on a second call instead of regenerating it", async () => {
    const first = await ensureDevPki(dir, { trustDomain: TD });
    const second = await ensureDevPki(dir, { trustDomain: TD });

    expect(second.written).toEqual([]);
    expect(second.ca).toEqual(first.ca);
    expect(second.admin).toEqual(first.admin);
    expect(await loadDevCertificateAuthority(dir)).toEqual(first.ca);
  });

  it("issues only what is missing, from the existing CA", async () => {
    const first = await ensureDevPki(dir, { trustDomain: TD });
    await unlink(first.verifier.certPath);
    await unlink(first.verifier.keyPath);

    const second = await ensureDevPki(dir, { trustDomain: TD });

    expect(second.written).toEqual([first.verifier.keyPath, first.verifier.certPath]);
    expect(second.ca).toEqual(first.ca);
    expect(second.verifier.certPem).not.toBe(first.verifier.certPem);
  });

  it("gives a server and admin pair that complete a mutual-TLS handshake", async () => {
    const pki = await ensureDevPki(dir, { trustDomain: TD });
    const server = await startMtlsServer(pki.server, pki.ca.certPem);
    try {
      expect((await connectMtls(server.port, pki.ca.certPem, pki.admin)).reply).toBe("ok");
    } finally {
      await server.close();
    }
  });

  it("refuses a pair with one file missing rather than replacing the other", async () => {
    const first = await ensureDevPki(dir, { trustDomain: TD });
    await unlink(first.admin.keyPath);

    await expect(ensureDevPki(dir, { trustDomain: TD })).rejects.toThrow(
      `${first.admin.keyPath} is missing`,
    );
  });

  it("refuses certificates left over from another CA", async () => {
    const first = await ensureDevPki(dir, { trustDomain: TD });
    const other = await createCertificateAuthority({ commonName: "Other", validityDays: 1 });
    await writeFile(first.ca.certPath, other.certPem);
    await writeFile(first.ca.keyPath, other.keyPem);

    await expect(ensureDevPki(dir, { trustDomain: TD })).rejects.toThrow(
      `${first.server.certPath} was not issued by ${first.ca.certPath}`,
    );
  });

  it("refuses client certificates for another trust domain", async () => {
    await ensureDevPki(dir, { trustDomain: TD });

    await expect(ensureDevPki(dir, { trustDomain: "other.test" })).rejects.toThrow(
      `does not name spiffe://other.test/admin/${DEV_ADMIN_NAME}`,
    );
  });

  it("finds no CA in an empty directory", async () => {
    expect(await loadDevCertificateAuthority(root)).toBeUndefined();
  });
});
