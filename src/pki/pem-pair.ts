/** A certificate and its private key, both PEM-encoded (the key as PKCS#8). */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A {@link PemPair} together with the files it lives in. */
export interface StoredPemPair extends PemPair {
  readonly certPath: string;
  readonly keyPath: string;
}
