import { webcrypto } from "node:crypto";
import { type Clock, systemClock } from "../clock.js";
import { exportPrivateKeyPem, generateP256KeyPair } from "./keys.js";
import type { PemPair } from "./pem-pair.js";
import { randomSerialHex } from "./serial.js";
import { validityWindow } from "./validity.js";
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from "./x509.js";

export interface CreateCertificateAuthorityOptions {
  readonly commonName: string;
  readonly validityDays: number;
  readonly clock?: Clock;
}

/**
 * Creates a self-signed ECDSA P-256 root CA. Its path length is 0: it signs
 * leaf certificates only, so a leaked leaf key can never mint further CAs.
 */
export async function createCertificateAuthority(
  options: CreateCertificateAuthorityOptions,
): Promise<PemPair> {
  const keys = await generateP256KeyPair();
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: [{ CN: [options.commonName] }],
      ...validityWindow(options.clock ?? systemClock, options.validityDays),
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString("pem"), keyPem: exportPrivateKeyPem(keys.privateKey) };
}
