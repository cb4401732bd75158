/** The PEM material both transports serve with. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** CA bundle client certificates must chain to. */
  readonly ca: Buffer;
  /** When false, clients without a certificate get through TLS but match no role. */
  readonly requireClientCert: boolean;
}
